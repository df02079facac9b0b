project = 'nova-realtime'
copyright = 'nova-realtime developers'
extensions = [
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    # The nova-realtime command reference, from its argparse parser.
    'sphinxarg.ext',
    # Examples run at build time, references built from the code.
    'nova.doc.sphinxext',
]
config_generator_config_file = [
    ('../../etc/nova/nova-realtime-config-generator.conf',
     '_static/nova'),
]
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
html_static_path = ['_static']
# The sample nova.conf is written into _static at build time.
html_theme_options = {'description': 'Real-time guests for the Nova '
                                     'libvirt driver'}
# Keep "--kernel" two hyphens: no en or em dashes made from "--" and
# "---" in text (quotes and ellipses are still made typographic).
smartquotes_action = 'qe'

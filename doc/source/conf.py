project = 'nova-realtime'
copyright = 'nova-realtime developers'
extensions = [
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
]
config_generator_config_file = [
    ('../../etc/nova/nova-realtime-config-generator.conf',
     '_static/nova'),
]
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
html_static_path = ['_static']

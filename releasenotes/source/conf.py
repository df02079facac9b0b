project = 'nova-realtime release notes'
copyright = 'nova-realtime developers'
extensions = ['reno.sphinxext']
master_doc = 'index'
html_theme = 'alabaster'

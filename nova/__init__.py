"""Real-time guests for the Nova libvirt driver."""

import warnings

# oslo.versionedobjects pulls in oslo.messaging and oslo.service, whose
# eventlet backend warns at import time. This project does not use eventlet;
# keep that noise off operators' terminals and test logs.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
warnings.filterwarnings('ignore', category=DeprecationWarning,
                        module=r'oslo_(service|utils|messaging)(\..*)?')

"""Versioned objects (oslo.versionedobjects, ``nova`` namespace)."""


def register_all():
    # Importing a module registers its objects with NovaObjectRegistry, which
    # also makes them reachable as ``nova.objects.<Name>``.
    __import__('nova.objects.flavor')
    __import__('nova.objects.image_meta')
    __import__('nova.objects.instance')
    __import__('nova.objects.numa')

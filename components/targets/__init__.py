"""The two platforms the app runs on (`target`), each composed from the lower layers.

Above the app in the layer order only because the local platform names the app's Service in its
port-forward hint; the app never imports from here. `__main__.py` picks one with `build`.
"""

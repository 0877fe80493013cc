"""The canary app: pure manifest builders (`manifests`) and the component that applies them."""

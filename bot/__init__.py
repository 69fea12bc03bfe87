"""The running bot: configuration, the web app, channels, the worker and delivery."""

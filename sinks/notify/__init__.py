"""Alert delivery: webhook, e-mail and log channels, routed by kind, severity and province."""

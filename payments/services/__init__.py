"""Payment services: the only code that writes payments and their events."""

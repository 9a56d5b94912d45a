"""Building blocks every service uses the same way: settings, logging, health, errors, auth."""

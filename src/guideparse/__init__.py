"""guideparse: scraped SaaS identity guides -> a clean, versioned catalog."""
__version__ = "0.1.0"

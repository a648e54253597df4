"""postloan — post-loan management (贷后管理) for lenders."""

__version__ = "0.1.0"

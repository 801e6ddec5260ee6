"""The weekly digest, the risk review, the customer report and their figures."""

"""`postloan import KIND FILE`: validated bulk import of DATA_CONTRACT files (LED-1, LED-7).

`rules.py` checks a file's rows (pure, vectorised); `service.py` compares them with the store,
writes the good rows in one transaction and the rejected ones to a rejects file.
"""

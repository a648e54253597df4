"""DATA_CONTRACT files (CSV / Parquet) <-> engine frames.

- `write_contract_files(sp, folder, fmt="csv")`: customers, loans, cards, card_statements,
  payments, events and schedules (revised ones only, or all with `include_schedules=True`).
- `read_contract_files(folder)` -> (Portfolio, customers, events): a light, exact loader (the
  validating import with rejects files is `postloan` import, later).
- `read_contract_tables(folder)`: every file parsed, attributes kept.
"""

from postloan.contract.codec import ContractValueError, format_amount, format_rate
from postloan.contract.files import (
    ContractTables,
    read_contract_files,
    read_contract_tables,
    to_contract,
    write_contract_file,
    write_contract_files,
)
from postloan.contract.spec import FILES, Column

__all__ = [
    "FILES",
    "Column",
    "ContractTables",
    "ContractValueError",
    "format_amount",
    "format_rate",
    "read_contract_files",
    "read_contract_tables",
    "to_contract",
    "write_contract_file",
    "write_contract_files",
]

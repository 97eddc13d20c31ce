"""Price files: official provincial tables, their 2021-2022 history, the French and Italian feeds."""

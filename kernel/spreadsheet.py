"""Cells written to CSV and XLSX exports must not start a formula when a spreadsheet program opens them
(OWASP "CSV injection": =, +, -, @, and tab or carriage return before them). Every export uses this."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A spreadsheet cell that cannot start a formula: text with a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutral_row(row):
    """A CSV row (list or dict) with every text cell neutralised."""
    if isinstance(row, dict):
        return {key: neutralise(value) for key, value in row.items()}
    return [neutralise(value) for value in row]

"""Exports of an evaluation's facts (CSV, XLSX, Parquet): one row per unit and fact, stating the
evaluation version and the indicator set version, so that anyone can recompute the scores."""
import csv
import io

from kernel.spreadsheet import neutralise

COLUMNS = ["region", "period_from", "period_to", "evaluation_version", "indicator_set_version",
           "jurisdiction_code", "jurisdiction_name", "fact", "value"]


def rows(evaluation):
    facts = (evaluation.facts.select_related("jurisdiction")
             .defer("jurisdiction__boundary", "jurisdiction__boundary_simplified")
             .order_by("jurisdiction__code", "code"))
    head = [evaluation.region.code, evaluation.period_from.isoformat(), evaluation.period_to.isoformat(),
            evaluation.version, evaluation.indicator_set.version]
    for fact in facts:
        yield head + [fact.jurisdiction.code, fact.jurisdiction.name_zh, fact.code, fact.value]


def to_csv(evaluation):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(evaluation):
        writer.writerow(["" if v is None else str(neutralise(v)) for v in row])  # numbers stay numbers
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(evaluation):
    from openpyxl import Workbook  # noqa: PLC0415 - heavy import, only for this export

    book = Workbook(write_only=True)
    sheet = book.create_sheet("facts")
    sheet.append(COLUMNS)
    for row in rows(evaluation):
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_parquet(evaluation):
    import pyarrow as pa  # noqa: PLC0415 - heavy import, only for this export
    import pyarrow.parquet as pq  # noqa: PLC0415

    data = list(zip(*rows(evaluation), strict=True)) or [[] for _ in COLUMNS]
    types = [pa.string(), pa.string(), pa.string(), pa.int32(), pa.int32(), pa.string(), pa.string(),
             pa.string(), pa.decimal128(24, 6)]
    table = pa.table({name: pa.array(list(col), type=t) for name, col, t in zip(COLUMNS, data, types, strict=True)},
                     metadata={"indicator_set_version": str(evaluation.indicator_set.version),
                               "evaluation_version": str(evaluation.version)})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()

"""Make Arrow data storable as Delta: Delta has no unsigned, null-typed, nanosecond or view columns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

_UNSIGNED_TO_SIGNED = {
    pa.uint8(): pa.int16(),
    pa.uint16(): pa.int32(),
    pa.uint32(): pa.int64(),
    pa.uint64(): pa.decimal128(20, 0),
}


def delta_compatible_type(dtype: pa.DataType) -> pa.DataType:
    """The nearest type Delta Lake can store without loss."""
    if dtype in _UNSIGNED_TO_SIGNED:
        return _UNSIGNED_TO_SIGNED[dtype]
    if pa.types.is_null(dtype):
        return pa.string()
    if pa.types.is_string_view(dtype) or pa.types.is_large_string(dtype):
        return pa.string()
    if pa.types.is_binary_view(dtype) or pa.types.is_large_binary(dtype):
        return pa.binary()
    if pa.types.is_timestamp(dtype):
        return pa.timestamp("us", tz="UTC" if dtype.tz else None)
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_list_view(dtype):
        return pa.list_(delta_compatible_type(dtype.value_type))
    if pa.types.is_map(dtype):
        return pa.map_(delta_compatible_type(dtype.key_type), delta_compatible_type(dtype.item_type))
    if pa.types.is_struct(dtype):
        return pa.struct([field.with_type(delta_compatible_type(field.type)) for field in dtype])
    return dtype


def delta_compatible_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([field.with_type(delta_compatible_type(field.type)) for field in schema])


class CountingReader:
    """Streams batches (cast to a Delta-compatible schema) and counts the rows that went through."""

    def __init__(self, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> None:
        self.source_schema = schema
        self.schema = delta_compatible_schema(schema)
        self._batches = batches
        self.rows = 0
        # What the source raised, if it did: the writer reports it as its own failure, which would hide that
        # the rows could not be read (a damaged table read by the SELECT being written, say).
        self.failure: Exception | None = None

    def _cast(self) -> Iterator[pa.RecordBatch]:
        needs_cast = self.schema != self.source_schema
        batches = iter(self._batches)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as error:
                self.failure = error
                raise
            self.rows += batch.num_rows
            yield batch.cast(self.schema) if needs_cast else batch

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self._cast())


def counting_reader(data: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]) -> CountingReader:
    """Wrap any Arrow input as a counted, Delta-compatible stream without materialising it."""
    if isinstance(data, pa.Table):
        return CountingReader(data.schema, data.to_batches())
    if isinstance(data, pa.RecordBatchReader):
        return CountingReader(data.schema, data)
    iterator = iter(data)
    first = next(iterator, None)
    if first is None:
        raise ValueError(
            "cannot write an empty batch iterable: its schema is unknown; pass a pa.Table instead"
        )

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        yield from iterator

    return CountingReader(first.schema, chained())

from salesforce_ingest.bulk import iter_bulk_pages


class FakeBulk:
    """client.bulk2.<Object>.query: yields CSV chunks as simple-salesforce does."""

    def __init__(self, chunks):
        self.chunks, self.calls = chunks, []

    def __getattr__(self, sobject):
        return self

    @property
    def bulk2(self):
        return self

    def query(self, soql, max_records, wait):
        self.calls.append((soql, max_records, wait))
        yield from self.chunks


def test_chunks_are_cut_into_pages_and_quoted_newlines_survive():
    chunks = ['Id,Name\n001A,"two\nlines"\n001B,plain\n001C,"a ""quote"""\n',
              "Id,Name\n001D,last"]
    pages = list(iter_bulk_pages(FakeBulk(chunks), "Account", "SELECT Id, Name FROM Account",
                                 page_rows=2))
    assert pages == [(["Id", "Name"], [["001A", "two\nlines"], ["001B", "plain"]]),
                     (["Id", "Name"], [["001C", 'a "quote"']]),
                     (["Id", "Name"], [["001D", "last"]])]


def test_an_empty_chunk_yields_nothing():
    assert list(iter_bulk_pages(FakeBulk(["", "Id\n"]), "Account", "SELECT Id FROM Account")) \
        == []

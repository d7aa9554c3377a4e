"""Where a claim comes from: a seed document and section, or an upstream reference."""

from __future__ import annotations

from dataclasses import dataclass

#: The source documents, by file name (kept in the project's shared notes).
SEED_ORM_BACKEND = "000_19b4e4215b591ddb.txt"
SEED_DRIVER_GUIDE = "001_312a5f9792b0f890.txt"
DOCUMENTS = (SEED_ORM_BACKEND, SEED_DRIVER_GUIDE)
#: The published contracts the driver layer cites (documents, not measurements).
DRIVER_CONTRACTS = ("Python sqlite3 documentation", "PEP 249", "aiosqlite documentation")


@dataclass(frozen=True)
class Source:
    """A document (seed file name or an upstream URL/issue) and the section the claim is in."""

    document: str
    section: str

    def __str__(self) -> str:
        return f"{self.document}, \u00a7 {self.section}"

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"document": self.document, "section": self.section}


def orm_backend(section: str) -> Source:
    """A section of `000_19b4e4215b591ddb.txt` (the ORM backend document)."""
    return Source(SEED_ORM_BACKEND, section)


def driver_guide(section: str) -> Source:
    """A section of `001_312a5f9792b0f890.txt` (the driver guide)."""
    return Source(SEED_DRIVER_GUIDE, section)


#: A check with no documented claim behind it: written to find what nobody documented.
DISCOVERY = Source("harness", "discovery (no document claims this)")

"""khabar: grounded bilingual digests of Arabic and Persian news."""

__version__ = "0.1.0"

"""The invite link as a QR code image (PNG bytes) for posters and screens, drawn with the `qrcode` library."""

from __future__ import annotations

import io


def qr_png(text: str) -> bytes:
    """A PNG QR code of `text`: error correction M (a poster with a crease or a smudge still scans), a quiet zone
    of four modules as the standard asks, and 10 pixels a module (about 370 pixels square for an invite link)."""
    import qrcode  # loaded on first use, like matplotlib: most running bots never draw one
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)  # Pillow (installed with matplotlib) writes PNG by default
    return buffer.getvalue()

"""Call metadata and previews, made by the zone worker on the storage server, a topic a
module: ``probe`` (ffprobe), ``call`` (start time and operator), ``previews`` (ffmpeg:
poster, sprite, WebVTT index), ``tree`` (where previews live under PATH_DST, reached
safely), ``read`` (the run over a zone's pending rows).

Nothing is imported here: the purge (storage.retention) uses ``tree``, and ``read`` uses the
purge's checks of PATH_DST, so the package must not load ``read`` for ``tree``'s sake.
"""

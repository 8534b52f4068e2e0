"""``for`` loops with ``append``, a comprehension of submits, and a fan-in over both."""

from prefect import flow, task


@task
def download(url: str) -> bytes:
    return url.encode() * 3


@task
def checksum(blob: bytes) -> str:
    return str(sum(blob) + 1000)


@task
def manifest(sums: list[str]) -> str:
    return ";".join(sums)


@flow
def loop_append(urls: tuple[str, ...] = ("a.csv", "b.csv", "c.csv")) -> str:
    blobs = []
    for url in urls:
        blobs.append(download.submit(url))
    sums = [checksum.submit(b) for b in blobs]
    extra = []
    for i in range(2):
        extra.append(checksum.submit(blobs[i]))
    return manifest.submit(sums + extra).result()

"""FileRemover against real files: the directories it keeps open never become a way out of
PATH_DST, whatever is swapped in between two files or two batches."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.paths import DIRECTORY_FDS_KEPT, FileRemover, Removal, file_remove


@dataclass
class Tree:
    root: Path  # PATH_DST
    outside: Path  # next to it: nothing here may ever be touched


@pytest.fixture
def tree(tmp_path):
    """PATH_DST with op1/a.mp4 … op1/d.mp4, and outside it a directory holding files of the
    same names (what a symlink swapped in for op1 would lead to). No database needed."""
    store = Tree(root=tmp_path / "store", outside=tmp_path / "outside")
    (store.outside / "dir").mkdir(parents=True)
    (store.outside / "secret.mp4").write_bytes(b"SECRET" * 10)
    (store.root / "op1").mkdir(parents=True)
    for name in "abcd":
        (store.root / "op1" / f"{name}.mp4").write_bytes(b"v")
        (store.outside / "dir" / f"{name}.mp4").write_bytes(b"OUTSIDE")
    return store


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def outside_intact(store) -> bool:
    return (
        all((store.outside / "dir" / f"{name}.mp4").read_bytes() == b"OUTSIDE" for name in "abcd")
        and (store.outside / "secret.mp4").read_bytes() == b"SECRET" * 10
    )


def swap_for_symlink(store, name: str = "op1") -> None:
    """Move the real directory aside (still inside PATH_DST) and put a symlink to the
    outside in its place."""
    (store.root / name).rename(store.root / f"{name}.moved")
    (store.root / name).symlink_to(store.outside / "dir")


def test_a_directory_swapped_for_a_symlink_between_two_files_is_refused(tree):
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
        swap_for_symlink(tree)  # op1's descriptor is kept open from the first file

        result = remover.remove(file_name="op1/b.mp4")

    assert (result.outcome, result.reason) == (Removal.REFUSED, "symbolic link in the path")
    assert outside_intact(tree)
    assert (tree.root / "op1.moved" / "b.mp4").exists()


def test_a_directory_swapped_for_a_symlink_between_batches_is_refused(tree):
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
    swap_for_symlink(tree)

    with FileRemover(root=tree.root) as remover:
        results = [remover.remove(file_name=f"op1/{n}.mp4") for n in "bcd"]

    assert {r.outcome for r in results} == {Removal.REFUSED}
    assert outside_intact(tree)


def test_a_directory_replaced_by_another_real_one_is_followed_to_the_new_one(tree):
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
        (tree.root / "op1").rename(tree.root / "op1.old")
        (tree.root / "op1").mkdir()
        (tree.root / "op1" / "b.mp4").write_bytes(b"new")

        assert remover.remove(file_name="op1/b.mp4").outcome == Removal.DELETED
        assert remover.remove(file_name="op1/c.mp4").outcome == Removal.MISSING

    # As a fresh walk does: the name is what counts, the old directory is left alone.
    assert sorted(os.listdir(tree.root / "op1.old")) == ["b.mp4", "c.mp4", "d.mp4"]


def test_a_file_swapped_for_a_symlink_in_a_kept_directory_is_refused(tree):
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
        (tree.root / "op1" / "b.mp4").unlink()
        (tree.root / "op1" / "b.mp4").symlink_to(tree.outside / "secret.mp4")

        assert remover.remove(file_name="op1/b.mp4").outcome == Removal.REFUSED

    assert outside_intact(tree)
    assert (tree.root / "op1" / "b.mp4").is_symlink()


def test_a_nested_directory_swapped_anywhere_on_the_chain_is_refused(tree):
    deep = tree.root / "x" / "y" / "z"
    deep.mkdir(parents=True)
    for name in "ab":
        (deep / f"{name}.mp4").write_bytes(b"v")
    (tree.outside / "dir" / "y" / "z").mkdir(parents=True)
    (tree.outside / "dir" / "y" / "z" / "b.mp4").write_bytes(b"OUTSIDE")

    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="x/y/z/a.mp4").outcome == Removal.DELETED
        (tree.root / "x" / "y").rename(tree.root / "x" / "y.moved")
        (tree.root / "x" / "y").symlink_to(tree.outside / "dir" / "y")

        assert remover.remove(file_name="x/y/z/b.mp4").outcome == Removal.REFUSED

    assert (tree.outside / "dir" / "y" / "z" / "b.mp4").read_bytes() == b"OUTSIDE"


def test_path_dst_swapped_for_a_symlink_is_refused_by_the_next_remover(tree):
    real = tree.root.with_name("store.real")
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
    tree.root.rename(real)
    tree.root.symlink_to(tree.outside)

    with FileRemover(root=tree.root) as remover:
        result = remover.remove(file_name="dir/b.mp4")

    assert result.outcome == Removal.REFUSED
    assert "PATH_DST" in result.reason
    assert outside_intact(tree)


def test_path_dst_moved_away_during_a_batch_is_not_worked_in_any_more(tree):
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
        # PATH_DST, with the directory kept open for op1, moved out of the storage.
        tree.root.rename(tree.outside / "moved")

        result = remover.remove(file_name="op1/b.mp4")
        assert (result.outcome, result.reason) == (
            Removal.REFUSED,
            "PATH_DST was replaced during the run",
        )
        tree.root.mkdir()  # an empty directory in its place: still not the one opened
        assert remover.remove(file_name="op1/b.mp4").outcome == Removal.REFUSED

    assert sorted(os.listdir(tree.outside / "moved" / "op1")) == ["b.mp4", "c.mp4", "d.mp4"]


def test_path_dst_below_a_symlinked_ancestor_is_refused(tree, tmp_path):
    (tmp_path / "alias").symlink_to(tmp_path)
    result = file_remove(root=tmp_path / "alias" / "store", file_name="op1/a.mp4")
    assert result.outcome == Removal.REFUSED
    assert (tree.root / "op1" / "a.mp4").exists()


def test_a_missing_path_dst_fails_every_file_and_touches_nothing(tree, tmp_path):
    with FileRemover(root=tmp_path / "nowhere") as remover:
        results = [remover.remove(file_name=name) for name in ("a.mp4", "op1/a.mp4")]
    assert all(r.outcome == Removal.FAILED and "PATH_DST" in r.reason for r in results)
    assert (tree.root / "op1" / "a.mp4").exists() and outside_intact(tree)


def test_names_out_of_shape_are_refused_before_anything_is_opened(tree):
    with FileRemover(root=tree.root) as remover:
        for name in ("../outside/secret.mp4", "op1/../../outside/secret.mp4", ".x.mp4", ""):
            assert remover.remove(file_name=name).outcome == Removal.REFUSED
    assert outside_intact(tree)


def test_many_directories_stay_within_the_descriptor_bound_and_nothing_leaks(tree):
    names = []
    for n in range(DIRECTORY_FDS_KEPT + 50):
        directory = tree.root / f"d{n}" / "sub"
        directory.mkdir(parents=True)
        (directory / "r.mp4").write_bytes(b"v")
        names.append(f"d{n}/sub/r.mp4")
    before = open_fds()

    outcomes, most_open = set(), 0
    with FileRemover(root=tree.root) as remover:
        for name in names:
            outcomes.add(remover.remove(file_name=name).outcome)
            most_open = max(most_open, len(open_fds() - before))
    # At every file, not only the last: PATH_DST and one chain's depth above the bound.
    assert most_open <= DIRECTORY_FDS_KEPT + 3

    assert outcomes == {Removal.DELETED}
    assert open_fds() == before
    assert not any((tree.root / f"d{n}" / "sub" / "r.mp4").exists() for n in range(len(names)))


def test_a_directory_write_protected_after_it_was_opened_is_reported(tree):
    with FileRemover(root=tree.root) as remover:
        assert remover.remove(file_name="op1/a.mp4").outcome == Removal.DELETED
        (tree.root / "op1").chmod(0o555)
        try:
            result = remover.remove(file_name="op1/b.mp4")
        finally:
            (tree.root / "op1").chmod(0o755)

    assert (result.outcome, result.reason) == (Removal.FAILED, "write-protected directory")
    assert (tree.root / "op1" / "b.mp4").exists()


def test_a_remover_cannot_be_used_after_it_is_closed(tree):
    remover = FileRemover(root=tree.root)
    remover.close()
    with pytest.raises(ValueError, match="after close"):
        remover.remove(file_name="op1/a.mp4")

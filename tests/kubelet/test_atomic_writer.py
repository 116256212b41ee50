"""ConfigMap/Secret volume layout as the kubelet's AtomicWriter makes it, and subPath pinning (no server)."""
import os
import re

from gitopslab.cluster.kubelet.volumes import container_mounts, pin_subpath, write_atomically


def listing(folder):
    return sorted(os.listdir(folder))


def test_files_are_links_through_data_to_a_timestamped_folder(tmp_path):
    vol = tmp_path / "config"
    assert write_atomically(vol, {"app.conf": "a=1\n", "nested/deep.txt": b"x"}, 0o644)
    data = os.readlink(vol / "..data")
    assert re.fullmatch(r"\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+", data)
    assert listing(vol) == sorted(["..data", data, "app.conf", "nested"])
    assert os.readlink(vol / "app.conf") == "..data/app.conf"
    assert os.readlink(vol / "nested") == "..data/nested"
    assert (vol / "app.conf").read_text() == "a=1\n" and (vol / "nested" / "deep.txt").read_bytes() == b"x"
    assert oct((vol / data / "app.conf").stat().st_mode & 0o777) == oct(0o644)


def test_an_unchanged_payload_is_not_written_again(tmp_path):
    vol = tmp_path / "config"
    write_atomically(vol, {"k": "v"}, 0o644)
    before = os.readlink(vol / "..data")
    assert not write_atomically(vol, {"k": "v"}, 0o644)
    assert os.readlink(vol / "..data") == before


def test_an_update_swaps_data_and_drops_removed_keys(tmp_path):
    vol = tmp_path / "config"
    write_atomically(vol, {"keep": "1", "gone": "2"}, 0o644)
    before = os.readlink(vol / "..data")
    reader = open(vol / "keep")  # a reader holding the old file keeps reading it
    assert write_atomically(vol, {"keep": "3", "new": "4"}, 0o644)
    after = os.readlink(vol / "..data")
    assert after != before and not (vol / before).exists()
    assert listing(vol) == sorted(["..data", after, "keep", "new"])
    assert (vol / "keep").read_text() == "3" and (vol / "new").read_text() == "4"
    assert reader.read() == "1"
    reader.close()


def test_an_empty_payload_leaves_an_empty_volume(tmp_path):
    vol = tmp_path / "config"
    write_atomically(vol, {"k": "v"}, 0o644)
    write_atomically(vol, {}, 0o644)
    assert [n for n in listing(vol) if not n.startswith("..")] == []


def test_files_of_the_former_layout_are_replaced(tmp_path):
    vol = tmp_path / "config"
    vol.mkdir()
    (vol / "k").write_text("old plain file")
    write_atomically(vol, {"k": "v"}, 0o644)
    assert (vol / "k").is_symlink() and (vol / "k").read_text() == "v"


def test_a_sub_path_keeps_the_content_of_the_container_start(tmp_path):
    vol = tmp_path / "volumes" / "config"
    write_atomically(vol, {"app.conf": "v1", "dir/x": "d1"}, 0o644)
    container = {"name": "app", "volumeMounts": [
        {"name": "config", "mountPath": "/etc/app"},
        {"name": "config", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
        {"name": "config", "mountPath": "/etc/dir", "subPath": "dir"}]}
    mounts = container_mounts(container, {"config": vol}, tmp_path / "volume-subpaths")
    whole, file_, folder = (m.host_path for m in mounts)
    assert whole == vol
    assert file_ == tmp_path / "volume-subpaths" / "config" / "app" / "1"
    write_atomically(vol, {"app.conf": "v2", "dir/x": "d2"}, 0o644)
    assert (whole / "app.conf").read_text() == "v2"
    assert file_.read_text() == "v1" and (folder / "x").read_text() == "d1"
    # a restarted container gets the content of its own start
    again = container_mounts(container, {"config": vol}, tmp_path / "volume-subpaths")
    assert again[1].host_path.read_text() == "v2"


def test_pin_subpath_of_a_plain_file(tmp_path):
    src = tmp_path / "f"
    src.write_text("x")
    pinned = pin_subpath(src, tmp_path / "pins" / "0")
    assert pinned.read_text() == "x"

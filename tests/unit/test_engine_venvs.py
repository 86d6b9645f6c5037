"""pip's output turned into install progress (runtime/engines/venvs.py): phases in order,
percent never going back, the collecting phase never reaching its end before pip says so."""

from __future__ import annotations

from pathlib import Path

from rtcompute.runtime.engines import venvs

PIP_OUTPUT = [
    "Looking in links: /wheelhouse",
    "Processing /wheelhouse/apache_flink-2.2.1-cp311-cp311-manylinux.whl",
    *[f"Processing /wheelhouse/dep{n}-1.0-py3-none-any.whl" for n in range(60)],
    "Installing collected packages: a, b, c, d",
    "Successfully installed a-1 b-1 c-1 d-1",
]


def test_pip_lines_give_monotonic_progress_in_phase_order(tmp_path: Path) -> None:
    state = venvs.PipProgress("collecting", venvs.dist_infos(tmp_path))
    seen = [event for line in PIP_OUTPUT if (event := state.feed(line)) is not None]
    phases = [phase for phase, _, _ in seen]
    percents = [percent for _, percent, _ in seen]
    assert phases[0] == "collecting" and phases[-1] == "installing"
    assert percents == sorted(percents)
    collecting = [p for phase, p, _ in seen if phase == "collecting"]
    assert collecting[0] > venvs.ENVIRONMENT_DONE and collecting[-1] < venvs.COLLECTING_DONE
    assert seen[-2][1:] == (venvs.COLLECTING_DONE, "4 packages")
    assert seen[-1][1] == venvs.INSTALLING_DONE


def test_installed_packages_are_counted_from_dist_info_folders(tmp_path: Path) -> None:
    state = venvs.PipProgress("collecting", venvs.dist_infos(tmp_path))
    assert state.tick(tmp_path) is None  # pip has not said how many yet
    state.feed("Installing collected packages: a, b, c, d")
    for name in ("a", "b"):
        (tmp_path / f"{name}-1.dist-info").mkdir()
    halfway = (venvs.COLLECTING_DONE + venvs.INSTALLING_DONE) // 2
    assert state.tick(tmp_path) == ("installing", halfway, "2/4 packages")
    assert state.tick(tmp_path) is None  # nothing new
    assert venvs.dist_infos(tmp_path / "missing") == 0


def test_relocate_points_scripts_at_the_final_directory(tmp_path: Path) -> None:
    partial, final = tmp_path / ".v.partial", tmp_path / "v"
    (partial / "bin").mkdir(parents=True)
    script = partial / "bin" / "pip"
    script.write_text(f"#!{partial}/bin/python\nimport pip\n")
    script.chmod(0o755)
    (partial / "bin" / "python").symlink_to("/usr/bin/python3")
    (partial / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = python -m venv {partial}\n")
    venvs.relocate(partial, final)
    assert script.read_text().startswith(f"#!{final}/bin/python\n")
    assert script.stat().st_mode & 0o777 == 0o755
    assert str(partial) not in (partial / "pyvenv.cfg").read_text()
    assert (partial / "bin" / "python").is_symlink()

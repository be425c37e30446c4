"""A real client: OmegaT inserts the exact matches of our TMX from tm/auto/
when it translates a project from the command line (checked with OmegaT 3.6)."""

import os
import shutil
import subprocess

import pytest

from align import export

from test_export import make

OMEGAT = shutil.which("omegat")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(OMEGAT is None, reason="OmegaT is not installed (no `omegat` on PATH)")]

# Sentence segmentation off: each paragraph of the source is one segment, so a
# merged pair (two sentences, one TMX entry) still meets its Japanese line.
PROJECT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<omegat>
  <project version="1.0">
    <source_dir>__DEFAULT__</source_dir>
    <target_dir>__DEFAULT__</target_dir>
    <tm_dir>__DEFAULT__</tm_dir>
    <glossary_dir>__DEFAULT__</glossary_dir>
    <glossary_file>__DEFAULT__</glossary_file>
    <dictionary_dir>__DEFAULT__</dictionary_dir>
    <source_lang>ja-JP</source_lang>
    <target_lang>en-US</target_lang>
    <sentence_seg>false</sentence_seg>
    <support_default_translations>true</support_default_translations>
    <remove_tags>false</remove_tags>
  </project>
</omegat>
"""


def test_omegat_inserts_our_translations(tmp_path):
    al = make((["今日は晴れ。", "明日も晴れ。"], ["Sunny today, and tomorrow."], 0.9, "confirmed"),
              (["「引用」と<タグ>＆記号。"], ['He said "quote" & <tag>', "and more."], 0.7, "auto"),
              (["絵文字😀です。"], ["It is an emoji 😀."], 0.6, "edited"),
              (["訳のない文。"], [], 0.0, "auto"))
    project = tmp_path / "project"
    for folder in ("source", "target", "tm/auto", "glossary", "dictionary", "omegat"):
        (project / folder).mkdir(parents=True)
    (project / "omegat.project").write_text(PROJECT, "utf-8")
    # The plain-text filter makes one paragraph (text between blank lines) one segment.
    ja_lines = [al.ja_text(p) for p in al.pairs]
    (project / "source" / "article.txt").write_text("\n\n".join(ja_lines) + "\n", "utf-8")
    export.write(al, project / "tm" / "auto" / "taiyaku.tmx", "tmx")

    env = {**os.environ, "HOME": str(tmp_path / "home"), "LC_ALL": "C.UTF-8",
           # No window, and UTF-8 whatever the locale of the machine running the tests.
           "JAVA_TOOL_OPTIONS": "-Djava.awt.headless=true -Dfile.encoding=UTF-8"}
    env.pop("DISPLAY", None)
    # Relative paths: Debian's omegat script passes its arguments on unquoted ($*).
    run = subprocess.run(
        ["omegat", "project", "--mode=console-translate", "--no-team", "--quiet",
         "--disable-project-locking", "--config-dir=config"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    log = "\n".join(line for line in (run.stdout + run.stderr).splitlines()
                    if "PLUGIN_LOAD_OK" not in line)[-3000:]
    assert run.returncode == 0, log

    target = project / "target" / "article.txt"
    assert target.exists(), log
    en_lines = [al.en_text(p) or al.ja_text(p) for p in al.pairs]  # untranslated stays Japanese
    assert target.read_text("utf-8") == "\n\n".join(en_lines) + "\n"

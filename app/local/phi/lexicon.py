"""PHI detection's vocabulary: the AWS categories, our entity kinds and their priorities, the word
lists and regular expressions the rules use, and small text helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


_UNIT_WORDS = {
    "mg", "milligrams", "milligram", "mcg", "micrograms", "grams", "g", "ml", "milliliters",
    "units", "tablets", "tablet", "pills", "pill", "capsules", "times", "daily", "day", "days",
    "weeks", "months", "years", "hours", "minutes", "puffs", "drops", "doses", "percent",
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

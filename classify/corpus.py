"""A generated corpus of dossier components for every catalogue type, with their true fields.

``generate(n_per_type, seed)`` gives ``Sample``s: the lines of each page (a line is a string
or a ``(left, right)`` pair of header columns, as ``tests/pages.render_page`` takes them),
the page size, the type code and the fields a perfect reader would extract. ``damage``
simulates OCR errors on text (dropped diacritics, ``d``/``đ``, ``0``/``O``, ``rn``/``m``,
stray spaces, merged lines, stamp fragments); ``to_pages`` makes ``PageResult``s.

Training uses text-level samples (fast); the evaluation renders other seeds in other fonts
and reads them with Tesseract (``bench/classify_eval.py``).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from classify.ids import mst_check_digit
from models.document import PageResult
from ocr.codes import mrz_check_digit

Line = str | tuple[str, str]
A4 = (2480, 3508, 300)
A3_LANDSCAPE = (4961, 3508, 300)
A1_LANDSCAPE = (9933, 7016, 300)
CARD = (1012, 638, 300)
NO_SIZE = (0, 0, 0)

SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Trịnh Đinh"
MIDDLE_M = "Văn Hữu Đức Minh Quốc Thành Công Xuân Hoàng Gia"
MIDDLE_F = "Thị Ngọc Thu Thanh Kim Mỹ Bích Hồng Diệu"
GIVEN_M = "An Bình Cường Dũng Hùng Hải Quang Sơn Tuấn Việt Khánh Long Đạt Hiếu Phúc Tài Nam"
GIVEN_F = "Lan Hoa Mai Ngọc Phương Tâm Thảo Trang Yến Nhung Oanh Hương Linh Vy Hằng Thủy"
PROVINCES = [
    ("Hà Nội", "001"),
    ("Hải Phòng", "031"),
    ("Đà Nẵng", "048"),
    ("Hồ Chí Minh", "079"),
    ("Cần Thơ", "092"),
    ("Tây Ninh", "072"),
    ("Bình Dương", "074"),
    ("Đồng Nai", "075"),
    ("Nghệ An", "040"),
    ("Thanh Hóa", "038"),
    ("Quảng Ninh", "022"),
    ("Khánh Hòa", "056"),
    ("Lâm Đồng", "068"),
    ("An Giang", "089"),
    ("Long An", "080"),
]
DISTRICTS = (
    "huyện Châu Thành|quận 3|thị xã Hòa Thành|huyện Gia Lâm|quận Hải Châu|huyện Đức Hòa"
    "|huyện Tân Biên|quận Ninh Kiều|thành phố Thủ Đức"
)
WARDS = (
    "xã Thái Bình|phường 3|phường Bến Nghé|xã An Phú|thị trấn Hòa Thành|phường Tân Định"
    "|xã Tân Lập|phường Hòa Khánh"
)
STREETS = (
    "Nguyễn Trãi|Lê Lợi|Trần Hưng Đạo|30/4|Cách Mạng Tháng Tám|Hai Bà Trưng|Lý Thường Kiệt"
    "|Nguyễn Huệ"
)
HEADER = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
STAMP_WORDS = ["ỦY BAN NHÂN DÂN", "SAO Y BẢN CHÍNH", "CÔNG AN", "ĐÃ NHẬN", "BẢN SAO", "*", "★"]


@dataclass
class Sample:
    """One component: its pages (lines and size), type code and true fields."""

    code: str
    pages: list[tuple[list[Line], tuple[int, int, int]]]
    fields: dict[str, str] = field(default_factory=dict)
    variant: str = ""


class Gen:
    """Random values for one sample."""

    def __init__(self, rnd: random.Random):
        self.r = rnd

    def pick(self, options: str | list, sep: str = " "):
        items = options.split(sep) if isinstance(options, str) else options
        return self.r.choice(items)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def person(self, female: bool | None = None) -> tuple[str, bool]:
        female = self.chance(0.5) if female is None else female
        mid = self.pick(MIDDLE_F if female else MIDDLE_M)
        given = self.pick(GIVEN_F if female else GIVEN_M)
        return f"{self.pick(SURNAMES)} {mid} {given}", female

    def day(self, start: int, end: int) -> date:
        first = date(start, 1, 1)
        return first + timedelta(days=self.r.randrange((date(end, 12, 31) - first).days))

    def cccd(self, born: date, female: bool, province: str | None = None) -> str:
        century = (0 if born.year < 2000 else 2) + int(female)
        code = province or self.pick(PROVINCES)[1]
        return f"{code}{century}{born.year % 100:02d}{self.r.randrange(10**6):06d}"

    def cmnd(self) -> str:
        return f"{self.r.choice('0123')}{self.r.randrange(10**8):08d}"

    def mst(self) -> str:
        while True:
            first = f"0{self.r.randrange(1, 10)}{self.r.randrange(10**7):07d}"
            check = mst_check_digit(first)
            if check != "10":
                return first + check

    def address(self) -> str:
        province = self.pick(PROVINCES)[0]
        head = f"Số {self.r.randrange(1, 300)} đường {self.pick(STREETS, '|')}, "
        return (
            head if self.chance(0.6) else "ấp Bình Phong, "
        ) + f"{self.pick(WARDS, '|')}, {self.pick(DISTRICTS, '|')}, tỉnh {province}"

    def date_text(self, d: date, words: float = 0.3) -> str:
        """A date in one of the forms in use."""
        if self.chance(words):
            mm = f"{d.month:02d}" if d.month < 3 or self.chance(0.5) else str(d.month)
            dd = f"{d.day:02d}" if self.chance(0.7) else str(d.day)
            return f"ngày {dd} tháng {mm} năm {d.year}"
        sep = self.r.choice("/////-.")
        dd = f"{d.day:02d}" if self.chance(0.8) else str(d.day)
        mm = f"{d.month:02d}" if self.chance(0.8) else str(d.month)
        return f"{dd}{sep}{mm}{sep}{d.year}"

    def place_date(self, d: date, place: str | None = None) -> str:
        place = place or self.pick(PROVINCES)[0]
        dd = f"{d.day:02d}" if d.day < 10 and self.chance(0.7) else str(d.day)
        mm = f"{d.month:02d}" if d.month < 3 and self.chance(0.7) else str(d.month)
        return f"{place}, ngày {dd} tháng {mm} năm {d.year}"

    def body(self) -> tuple[str, str, str]:
        """(upper header line, lower header line, symbol) of an issuing body."""
        province = self.pick(PROVINCES)[0].upper()
        return self.pick(
            [
                (f"UBND TỈNH {province}", "SỞ XÂY DỰNG", "SXD"),
                (f"UBND TỈNH {province}", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "STNMT"),
                (f"ỦY BAN NHÂN DÂN TỈNH {province}", "", "UBND"),
                (f"UBND {self.pick(DISTRICTS, '|').upper()}", "", "UBND"),
                (f"UBND {self.pick(WARDS, '|').upper()}", "", "UBND"),
                (f"SỞ TƯ PHÁP TỈNH {province}", "", "STP"),
                (f"CÔNG AN TỈNH {province}", "PHÒNG CẢNH SÁT QLHC", "CAT-PC06"),
                ("BỘ TÀI CHÍNH", "", "BTC"),
            ]
        )

    def tail(self, title: str) -> list[Line]:
        signer, _ = self.person()
        return [title, "(Ký, ghi rõ họ tên)" if self.chance(0.3) else "", signer]

    def filler(self, n: int) -> list[str]:
        sentences = [
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
            "Căn cứ Nghị định số 45/2020/NĐ-CP của Chính phủ về thủ tục hành chính;",
            "Xét đề nghị của Trưởng phòng Quản lý đô thị;",
            "Giao Văn phòng chủ trì, phối hợp với các sở, ngành triển khai thực hiện.",
            "Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành.",
            "Tình hình thực hiện trong kỳ đạt kết quả tích cực, đúng tiến độ đề ra.",
            "Đề nghị các đơn vị báo cáo kết quả trước ngày 30 hằng tháng.",
            "Tổng số hồ sơ tiếp nhận trong kỳ là 1.245 hồ sơ, đã giải quyết 1.198 hồ sơ.",
            "Bảo đảm dữ liệu được số hóa và tái sử dụng cho người dân, doanh nghiệp.",
        ]
        return [self.r.choice(sentences) for _ in range(n)]


def _header(g: Gen, left: str = "", left2: str = "") -> list[Line]:
    if left and g.chance(0.7):
        return [(left, HEADER[0]), (left2, HEADER[1])]
    return [*(x for x in (left, left2) if x), HEADER[0], HEADER[1]]


def _mrz(number: str, born: date, expiry: date, name: str, female: bool) -> list[str]:
    doc = number[3:]
    l1 = f"IDVNM{doc}{mrz_check_digit(doc)}{number}<<".ljust(29, "<")
    l1 += str(mrz_check_digit(l1[5:30]))
    b, e = born.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    l2 = f"{b}{mrz_check_digit(b)}{'F' if female else 'M'}{e}{mrz_check_digit(e)}VNM"
    l2 = l2.ljust(29, "<")
    l2 += str(mrz_check_digit(l2))
    bare = strip_diacritics(name).upper().split()
    l3 = f"{bare[0]}<<{'<'.join(bare[1:])}".ljust(30, "<")[:30]
    return [l1, l2, l3]


def strip_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


# --------------------------------------------------------------------------- types


def can_cuoc(g: Gen) -> Sample:
    name, female = g.person()
    born = g.day(1950, 2008)
    issued = g.day(2016, 2025)
    expiry = date(born.year + (25 if born.year > 2000 else 60), born.month, born.day)
    number = g.cccd(born, female)
    old = g.chance(0.15)
    title = "GIẤY CHỨNG MINH NHÂN DÂN" if old else g.pick(["CĂN CƯỚC CÔNG DÂN", "CĂN CƯỚC"])
    shown = g.cmnd() if old else number
    truth = {"ho_ten": name.upper(), "ngay_sinh": born.isoformat(), "ngay_cap": issued.isoformat()}
    truth["so_cmnd" if old else "ma_dinh_danh"] = shown
    sex = "Nữ" if female else "Nam"
    front = [
        *HEADER,
        *(["SOCIALIST REPUBLIC OF VIET NAM", "Independence - Freedom - Happiness"] * (not old)),
        title,
        *(["Citizen Identity Card"] if not old and g.chance(0.7) else []),
        f"Số / No.: {shown}" if not old else f"Số: {shown}",
        "Họ và tên / Full name:" if not old else "Họ tên:",
        name.upper(),
        f"Ngày sinh / Date of birth: {born:%d/%m/%Y}",
        f"Giới tính / Sex: {sex}   Quốc tịch / Nationality: Việt Nam",
        f"Quê quán / Place of origin: {g.pick(WARDS, '|')}, {g.pick(PROVINCES)[0]}",
        f"Nơi thường trú / Place of residence: {g.address()}",
    ]
    if not old:
        front.append(f"Có giá trị đến: {expiry:%d/%m/%Y}")
        truth["hieu_luc_den"] = expiry.isoformat()
    signer, _ = g.person()
    back = [
        "Đặc điểm nhận dạng / Personal identification: Nốt ruồi C:1cm trên sau đầu lông mày",
        f"Ngày, tháng, năm / Date, month, year: {issued:%d/%m/%Y}",
        "CỤC TRƯỞNG CỤC CẢNH SÁT" if not old else f"GIÁM ĐỐC CÔNG AN TỈNH {g.pick(PROVINCES)[0]}",
        "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI" if not old else "",
        signer,
        "Ngón trỏ trái / Left index finger   Ngón trỏ phải / Right index finger",
    ]
    if not old and g.chance(0.7):
        back += _mrz(number, born, expiry, name, female)
    variant = g.r.random()
    if variant < 0.45:
        pages = [(front, CARD), (back, CARD)]
    elif variant < 0.8:  # both sides photocopied on one A4 sheet
        pages = [(front + [""] + back, A4)]
    else:
        pages = [(front, g.pick([CARD, NO_SIZE]))]
        truth.pop("ngay_cap")
    return Sample("can_cuoc", pages, truth, "cmnd" if old else "cccd")


def giay_khai_sinh(g: Gen) -> Sample:
    name, female = g.person()
    born = g.day(1990, 2024)
    registered = born + timedelta(days=g.r.randrange(3, 60))
    number = g.cccd(born, female) if born.year >= 2016 or g.chance(0.3) else ""
    mother, _ = g.person(True)
    father, _ = g.person(False)
    no = str(g.r.randrange(1, 400))
    title = g.pick(["GIẤY KHAI SINH", "TRÍCH LỤC KHAI SINH", "GIẤY KHAI SINH (BẢN SAO)"])
    body = f"Ủy ban nhân dân {g.pick(WARDS, '|')}, {g.pick(DISTRICTS, '|')}"
    lines = [
        *_header(g),
        title,
        f"Số: {no}",
        f"Quyển số: {g.r.randrange(1, 10):02d}/{registered.year}",
        f"Họ, chữ đệm, tên: {name.upper()}",
        f"Ngày, tháng, năm sinh: {born:%d/%m/%Y}",
        f"Giới tính: {'Nữ' if female else 'Nam'}   Dân tộc: Kinh   Quốc tịch: Việt Nam",
        f"Nơi sinh: Bệnh viện Đa khoa tỉnh {g.pick(PROVINCES)[0]}",
        *([f"Số định danh cá nhân: {number}"] if number else []),
        f"Họ, chữ đệm, tên người mẹ: {mother.upper()}",
        f"Năm sinh: {born.year - g.r.randrange(20, 40)}   Dân tộc: Kinh",
        f"Nơi cư trú: {g.address()}",
        f"Họ, chữ đệm, tên người cha: {father.upper()}",
        f"Nơi cư trú: {g.address()}",
        f"Nơi đăng ký: {body}",
        f"Ngày, tháng, năm đăng ký: {registered:%d/%m/%Y}",
        *g.tail("NGƯỜI KÝ GIẤY KHAI SINH"),
    ]
    truth = {
        "ho_ten": name.upper(),
        "ngay_sinh": born.isoformat(),
        "ngay_cap": registered.isoformat(),
        "so_ky_hieu": no,
    }
    if number:
        truth["ma_dinh_danh"] = number
    return Sample("giay_khai_sinh", [(lines, g.pick([A4, A4, NO_SIZE]))], truth)


def gcn_qsdd(g: Gen) -> Sample:
    name, female = g.person()
    born = g.day(1950, 1995)
    number = g.cccd(born, female)
    letters = g.pick("AK BĐ CĐ CH BY DA CS AB")
    serial = f"{letters} {g.r.randrange(10**6):06d}"
    issued = g.day(2005, 2024)
    province = g.pick(PROVINCES)[0]
    titles = g.pick(
        [
            [
                "GIẤY CHỨNG NHẬN",
                "QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở",
                "VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT",
            ],
            ["GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT"],
            ["GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT,", "QUYỀN SỞ HỮU TÀI SẢN GẮN LIỀN VỚI ĐẤT"],
        ]
    )
    who = "Bà" if female else "Ông"
    page1 = [
        *HEADER,
        *titles,
        "I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất",
        f"{who}: {name.upper()}, sinh năm {born.year}, CCCD số: {number}",
        f"Địa chỉ thường trú: {g.address()}",
        serial,
    ]
    page2 = [
        "II. Thửa đất, nhà ở và tài sản khác gắn liền với đất",
        f"a) Thửa đất số: {g.r.randrange(1, 900)}, tờ bản đồ số: {g.r.randrange(1, 60)}",
        f"b) Địa chỉ: {g.address()}",
        f"c) Diện tích: {g.r.randrange(40, 900)},{g.r.randrange(10)} m²",
        "d) Hình thức sử dụng: Sử dụng riêng",
        g.pick(["đ) Mục đích sử dụng: Đất ở tại nông thôn", "đ) Mục đích sử dụng: Đất trồng lúa"]),
        "e) Thời hạn sử dụng: Lâu dài",
        "g) Nguồn gốc sử dụng: Nhà nước công nhận quyền sử dụng đất",
        g.place_date(issued, province),
        f"TM. ỦY BAN NHÂN DÂN {g.pick(DISTRICTS, '|').upper()}",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        g.person()[0],
        f"Số vào sổ cấp GCN: CH {g.r.randrange(10**5):05d}",
    ]
    truth = {
        "ho_ten": name.upper(),
        "ma_dinh_danh": number,
        "so_phat_hanh": serial,
        "ngay_cap": issued.isoformat(),
    }
    if g.chance(0.5):
        return Sample("gcn_qsdd", [(page1, A4), (page2, A4)], truth)
    return Sample("gcn_qsdd", [(page1 + page2, g.pick([A4, NO_SIZE]))], truth)


def giay_phep_xay_dung(g: Gen) -> Sample:
    top, below, _ = g.body()
    no = f"{g.r.randrange(1, 999)}/{g.pick(['GPXD', 'GPXD', 'GP-SXD', 'GPXD-UBND'])}"
    issued = g.day(2015, 2025)
    name, female = g.person()
    title = g.pick(["GIẤY PHÉP XÂY DỰNG", "GIẤY PHÉP XÂY DỰNG", "GIẤY PHÉP SỬA CHỮA, CẢI TẠO"])
    lines = [
        *_header(g, top, below),
        (f"Số: {no}", g.place_date(issued)),
        "",
        title,
        g.pick(["(Sử dụng cho nhà ở riêng lẻ)", "(Sử dụng cho công trình không theo tuyến)"]),
        f"1. Cấp cho: {'Bà' if female else 'Ông'} {name.upper()}",
        f"Địa chỉ: {g.address()}",
        "2. Được phép xây dựng công trình: Nhà ở riêng lẻ",
        f"+ Vị trí xây dựng: Thửa đất số {g.r.randrange(1, 900)}, "
        f"tờ bản đồ số {g.r.randrange(1, 60)}",
        f"+ Cốt nền xây dựng công trình: +0,{g.r.randrange(10, 90)} m so với cốt vỉa hè",
        f"+ Mật độ xây dựng: {g.r.randrange(40, 90)}%; hệ số sử dụng đất: 2,1",
        "+ Chỉ giới đường đỏ, chỉ giới xây dựng: lùi 3,0 m so với ranh lộ giới",
        f"+ Tổng diện tích sàn: {g.r.randrange(80, 600)} m²",
        f"+ Chiều cao công trình: {g.r.randrange(5, 25)},5 m; số tầng: {g.r.randrange(1, 6)}",
        "4. Giấy phép này có hiệu lực khởi công xây dựng trong thời hạn 12 tháng kể từ ngày cấp.",
        "Nơi nhận:",
        "- Như trên;",
        "- Lưu: VT.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        g.person()[0],
    ]
    truth = {"so_ky_hieu": no, "ngay_cap": issued.isoformat(), "ho_ten": name.upper()}
    return Sample("giay_phep_xay_dung", [(lines, g.pick([A4, A4, NO_SIZE]))], truth)


def ban_ve(g: Gen) -> Sample:
    sheet = g.pick(
        [
            "MẶT BẰNG TẦNG 1",
            "MẶT BẰNG TẦNG 2",
            "MẶT ĐỨNG CHÍNH",
            "MẶT CẮT A-A",
            "MẶT BẰNG MÓNG",
            "CHI TIẾT CẦU THANG",
            "MẶT BẰNG MÁI",
            "PHỐI CẢNH",
        ]
    )
    rooms = ["PHÒNG KHÁCH", "BẾP", "WC", "PHÒNG NGỦ 1", "PHÒNG NGỦ 2", "SÂN", "KHO", "BAN CÔNG"]
    art = g.r.sample(rooms, g.r.randrange(2, 6))
    art += [
        " ".join(str(g.r.randrange(9, 60) * 100) for _ in range(g.r.randrange(2, 6)))
        for _ in range(g.r.randrange(2, 6))
    ]
    art.append(f"{sheet}" + (f" TL 1/{g.pick('50 100 100 200')}" if g.chance(0.7) else ""))
    g.r.shuffle(art)
    name, _ = g.person()
    scale = g.pick("50 100 100 200")
    project = g.pick(["NHÀ Ở RIÊNG LẺ", "NHÀ PHỐ 3 TẦNG", "NHÀ XƯỞNG", "TRƯỜNG MẦM NON"])
    owner = f"{g.pick(['ÔNG', 'BÀ'])} {name.upper()}"
    place = f"{g.pick(WARDS, '|').upper()}, {g.pick(DISTRICTS, '|').upper()}"
    designer = f"{g.pick(['CHỦ TRÌ THIẾT KẾ', 'CHỦ NHIỆM THIẾT KẾ'])}: KTS. {g.person()[0].upper()}"
    code_label = g.pick(["KÝ HIỆU BẢN VẼ", "BẢN VẼ SỐ"])
    sheet_code = f"{g.pick(['KT', 'KC', 'DN'])}-{g.r.randrange(1, 30):02d}"
    block = [
        f"CÔNG TRÌNH: {project}",
        f"CHỦ ĐẦU TƯ: {owner}",
        f"ĐỊA ĐIỂM: {place}",
        designer,
        f"BẢN VẼ: {sheet}",
        f"{code_label}: {sheet_code}",
        f"TỶ LỆ: 1/{scale}",
        f"NGÀY: {g.day(2015, 2025):%d/%m/%Y}",
    ]
    dims = g.pick([A3_LANDSCAPE, A3_LANDSCAPE, A1_LANDSCAPE, NO_SIZE])
    truth = {
        "cong_trinh": project,
        "chu_dau_tu": owner,
        "ten_ban_ve": sheet,
        "ky_hieu_ban_ve": sheet_code,
        "ty_le": f"1/{scale}",
    }
    return Sample("ban_ve", [(art + block, dims)], truth)


def giay_cn_dkdn(g: Gen) -> Sample:
    mst = g.mst()
    province = g.pick(PROVINCES)[0]
    first = g.day(2000, 2022)
    owner, female = g.person()
    born = g.day(1960, 2000)
    kind = g.pick(["DOANH NGHIỆP", "DOANH NGHIỆP", "HỘ KINH DOANH", "HOẠT ĐỘNG CHI NHÁNH"])
    label = {"HỘ KINH DOANH": "Mã số hộ kinh doanh", "HOẠT ĐỘNG CHI NHÁNH": "Mã số chi nhánh"}
    company = g.pick(["AN PHÁT", "MINH LONG", "HOÀNG GIA", "SAO VIỆT", "PHÚ THỊNH", "ĐẠI NAM"])
    lines = [
        *_header(g, "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", f"TỈNH {province.upper()}"),
        "PHÒNG ĐĂNG KÝ KINH DOANH",
        f"GIẤY CHỨNG NHẬN ĐĂNG KÝ {kind}",
        g.pick(["CÔNG TY TRÁCH NHIỆM HỮU HẠN MỘT THÀNH VIÊN", "CÔNG TY CỔ PHẦN", ""]),
        f"{label.get(kind, 'Mã số doanh nghiệp')}: {mst}",
        f"Đăng ký lần đầu: {g.date_text(first, 0.7)}",
    ]
    issued = first
    if g.chance(0.6):
        issued = first + timedelta(days=g.r.randrange(100, 1500))
        lines.append(f"Đăng ký thay đổi lần thứ: {g.r.randrange(1, 6)}, {g.date_text(issued, 0.7)}")
    lines += [
        "1. Tên công ty",
        f"Tên công ty viết bằng tiếng Việt: CÔNG TY TNHH {company}",
        f"Tên công ty viết bằng tiếng nước ngoài: {strip_diacritics(company)} COMPANY LIMITED",
        "2. Địa chỉ trụ sở chính",
        g.address(),
        f"Điện thoại: 0{g.r.randrange(200, 300)} {g.r.randrange(10**6, 10**7)}",
        f"3. Vốn điều lệ: {g.r.randrange(1, 50)}.000.000.000 đồng",
        "4. Người đại diện theo pháp luật của công ty",
        f"Họ và tên: {owner.upper()}   Giới tính: {'Nữ' if female else 'Nam'}",
        f"Sinh ngày: {born:%d/%m/%Y}   Dân tộc: Kinh   Quốc tịch: Việt Nam",
        f"Số giấy tờ pháp lý của cá nhân: {g.cccd(born, female)}",
        "TRƯỞNG PHÒNG",
        g.person()[0],
    ]
    truth = {"ma_so_doanh_nghiep": mst, "ngay_cap": issued.isoformat()}
    return Sample("giay_cn_dkdn", [(lines, g.pick([A4, A4, NO_SIZE]))], truth)


def quyet_dinh(g: Gen) -> Sample:
    top, below, symbol = g.body()
    kind, abbr = g.pick(
        [
            ("QUYẾT ĐỊNH", "QĐ"),
            ("QUYẾT ĐỊNH", "QĐ"),
            ("BÁO CÁO", "BC"),
            ("THÔNG BÁO", "TB"),
            ("KẾ HOẠCH", "KH"),
            ("TỜ TRÌNH", "TTr"),
            ("NGHỊ QUYẾT", "NQ"),
            ("CÔNG VĂN", ""),
        ]
    )
    n = g.r.randrange(1, 3000)
    issued = g.day(2010, 2025)
    no = (
        f"{n}/{issued.year}/{abbr}-{symbol}"
        if g.chance(0.2) and abbr
        else (f"{n}/{abbr}-{symbol}" if abbr else f"{n}/{symbol}-VP")
    )
    spaced = no.replace("/", " /", 1) if g.chance(0.15) else no
    subject = g.pick(
        [
            "Về việc phê duyệt kế hoạch số hóa hồ sơ thủ tục hành chính",
            "Về việc công nhận kết quả xét tuyển viên chức năm 2023",
            "Về việc thu hồi đất để thực hiện dự án mở rộng đường tỉnh 784",
            "Về việc giao chỉ tiêu kế hoạch phát triển kinh tế - xã hội",
            "V/v triển khai Đề án 06 trên địa bàn",
            "Về việc cấp đổi giấy chứng nhận quyền sử dụng đất cho hộ gia đình",
        ]
    )
    head = _header(g, top, below)
    date_line = g.place_date(issued)
    if isinstance(head[0], tuple) and g.chance(0.7):
        lines = [*head, (f"Số: {spaced}", date_line)]
    else:
        lines = [*head, f"Số: {spaced}", date_line]
    if kind != "CÔNG VĂN":
        lines += ["", kind]
    lines += [subject, ""]
    body = g.filler(g.r.randrange(3, 8))
    if kind == "QUYẾT ĐỊNH":
        body += [
            f"{kind}:",
            "Điều 1. Phê duyệt nội dung nêu trên.",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
        ]
    lines += body + [
        "Nơi nhận:",
        "- Như Điều 3;",
        "- Lưu: VT.",
        g.pick(["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "KT. GIÁM ĐỐC", "GIÁM ĐỐC"]),
        g.person()[0],
    ]
    truth = {"so_ky_hieu": no, "ngay_cap": issued.isoformat()}
    if g.chance(0.3):
        cut = len(lines) // 2
        return Sample("quyet_dinh", [(lines[:cut], A4), (lines[cut:], A4)], truth)
    return Sample("quyet_dinh", [(lines, g.pick([A4, A4, NO_SIZE]))], truth)


def don_to_khai(g: Gen) -> Sample:
    title, code = g.pick(
        [
            ("ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG", "Mẫu số 01"),
            ("TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ", "Mẫu CT01"),
            ("TỜ KHAI ĐĂNG KÝ KHAI SINH", ""),
            ("ĐƠN ĐĂNG KÝ BIẾN ĐỘNG ĐẤT ĐAI, TÀI SẢN GẮN LIỀN VỚI ĐẤT", "Mẫu số 09/ĐK"),
            ("ĐƠN XIN XÁC NHẬN", ""),
            ("PHIẾU YÊU CẦU CUNG CẤP THÔNG TIN", "Mẫu số 01/PYC"),
            ("GIẤY ĐỀ NGHỊ ĐĂNG KÝ DOANH NGHIỆP", "Phụ lục I-1"),
            ("TỜ KHAI CĂN CƯỚC", "Mẫu CC01"),
            ("ĐƠN KHIẾU NẠI", ""),
        ]
    )
    name, female = g.person()
    born = g.day(1950, 2005)
    number = g.cccd(born, female)
    signed = g.day(2018, 2025)
    lines = [*HEADER]
    if code:
        lines.insert(0 if g.chance(0.5) else 2, code)
    lines += [
        title,
        "Kính gửi: "
        + g.pick(["Sở Xây dựng tỉnh", "Công an phường", "Ủy ban nhân dân xã"])
        + f" {g.pick(PROVINCES)[0]}",
        f"1. Họ, chữ đệm và tên: {name.upper()}",
        f"2. Ngày, tháng, năm sinh: {born:%d/%m/%Y}   3. Giới tính: {'Nữ' if female else 'Nam'}",
        f"4. Số định danh cá nhân: {number}   5. Số điện thoại: 09{g.r.randrange(10**8):08d}",
        "6. Email: ..........................",
        f"7. Nơi ở hiện tại: {g.address()}",
        "8. Nội dung đề nghị: "
        + g.pick(["Đăng ký thường trú", "cấp giấy phép", "xác nhận thông tin"]),
        "..............................................",
        g.pick(
            ["Tôi xin cam đoan những lời khai trên là đúng sự thật.", "Cam kết thực hiện đúng."]
        ),
        g.place_date(signed),
        *g.tail(g.pick(["NGƯỜI LÀM ĐƠN", "NGƯỜI KÊ KHAI", "NGƯỜI ĐỀ NGHỊ"])),
    ]
    truth = {"ho_ten": name.upper(), "ma_dinh_danh": number, "ngay_sinh": born.isoformat()}
    return Sample("don_to_khai", [(lines, g.pick([A4, A4, NO_SIZE]))], truth)


def ho_khau(g: Gen) -> Sample:
    head, female = g.person()
    born = g.day(1940, 1990)
    issued = g.day(1995, 2020)
    no = str(g.r.randrange(10**8, 10**9))
    lines = [
        *HEADER,
        "SỔ HỘ KHẨU",
        f"Số: {no}",
        f"Họ và tên chủ hộ: {head.upper()}",
        f"Chỗ ở hiện nay: {g.address()}",
        g.place_date(issued, "").lstrip(", ").capitalize(),
        f"TRƯỞNG CÔNG AN {g.pick(DISTRICTS, '|').upper()}",
        g.person()[0],
        f"Họ và tên: {head.upper()}   Quan hệ với chủ hộ: Chủ hộ",
        f"Ngày sinh: {born:%d/%m/%Y}   Giới tính: {'Nữ' if female else 'Nam'}",
        f"CMND số: {g.cmnd()}",
    ]
    member, _ = g.person()
    lines += [f"Họ và tên: {member.upper()}   Quan hệ với chủ hộ: {g.pick(['Con', 'Vợ', 'Cháu'])}"]
    truth = {"so_ky_hieu": no, "ho_ten": head.upper(), "ngay_cap": issued.isoformat()}
    return Sample("ho_khau", [(lines, g.pick([A4, NO_SIZE]))], truth)


def khac(g: Gen) -> Sample:
    d = g.day(2015, 2025)
    name, _ = g.person()
    kind = g.r.randrange(6)
    if kind == 0:
        lines = [
            g.place_date(d),
            f"{g.pick(['Chị', 'Anh'])} {name.split()[-1]} thân mến,",
            "Em viết thư này để báo tin cả nhà đều khỏe. Tuần sau em sẽ về quê thăm ba mẹ,",
            f"Số điện thoại mới của em là 09{g.r.randrange(10**8):08d}.",
            "Thương chị,",
            g.pick(GIVEN_F),
        ]
    elif kind == 1:
        lines = [
            "HÓA ĐƠN GIÁ TRỊ GIA TĂNG",
            f"Ký hiệu: 1C{d.year % 100}TAA   Số: {g.r.randrange(10**6):07d}",
            f"Ngày {d.day} tháng {d.month} năm {d.year}",
            f"Đơn vị bán hàng: CÔNG TY TNHH {g.pick(['AN PHÁT', 'SAO VIỆT'])}",
            f"Mã số thuế: {g.mst()}",
            f"Họ tên người mua hàng: {name}",
            "STT Tên hàng hóa, dịch vụ Đơn vị tính Số lượng Đơn giá Thành tiền",
            f"1 Xi măng bao {g.r.randrange(10, 90)} 95.000",
            "Tổng cộng tiền thanh toán:",
        ]
    elif kind == 2:
        lines = [
            *HEADER,
            "HỢP ĐỒNG MUA BÁN NHÀ Ở",
            f"Hôm nay, {g.date_text(d, 1)}, tại {g.pick(PROVINCES)[0]}",
            "Chúng tôi gồm có:",
            f"BÊN A (Bên bán): {name.upper()}",
            f"BÊN B (Bên mua): {g.person()[0].upper()}",
            "Điều 1. Đối tượng của hợp đồng",
            "Điều 2. Giá mua bán và phương thức thanh toán",
            "ĐẠI DIỆN BÊN A   ĐẠI DIỆN BÊN B",
        ]
    elif kind == 3:
        lines = [
            f"BỆNH VIỆN ĐA KHOA TỈNH {g.pick(PROVINCES)[0].upper()}",
            "GIẤY RA VIỆN",
            f"Họ tên người bệnh: {name.upper()}   Tuổi: {g.r.randrange(1, 90)}",
            f"Vào viện lúc: 8 giờ, {d:%d/%m/%Y}",
            "Chẩn đoán: Viêm phổi",
            "Phương pháp điều trị: Nội khoa",
            "Lời dặn của thầy thuốc: tái khám sau 1 tuần",
            "TRƯỞNG KHOA",
        ]
    elif kind == 4:
        lines = [
            "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM",
            "SAO KÊ TÀI KHOẢN",
            f"Số tài khoản: {g.r.randrange(10**12, 10**13)}",
            f"Chủ tài khoản: {name.upper()}",
            f"Từ ngày {d:%d/%m/%Y}",
            "Ngày giao dịch Số tiền Nội dung",
            f"{d:%d/%m/%Y} 5.000.000 CHUYEN TIEN",
            f"{d:%d/%m/%Y} 1.200.000 THANH TOAN HOA DON",
        ]
    else:
        lines = [
            f"TRƯỜNG ĐẠI HỌC {g.pick(['BÁCH KHOA', 'KINH TẾ', 'SƯ PHẠM'])}",
            "BẢNG ĐIỂM HỌC TẬP",
            f"Họ và tên sinh viên: {name}",
            f"Mã sinh viên: {g.r.randrange(10**7, 10**8)}",
            "Học phần Số tín chỉ Điểm",
            "Toán cao cấp 3 8,5",
            "Vật lý đại cương 3 7,0",
            "Điểm trung bình tích lũy: 3,12",
        ]
    return Sample("khac", [(lines, g.pick([A4, NO_SIZE]))], {}, str(kind))


GENERATORS: dict[str, Callable[[Gen], Sample]] = {
    "can_cuoc": can_cuoc,
    "giay_khai_sinh": giay_khai_sinh,
    "gcn_qsdd": gcn_qsdd,
    "giay_phep_xay_dung": giay_phep_xay_dung,
    "ban_ve": ban_ve,
    "giay_cn_dkdn": giay_cn_dkdn,
    "quyet_dinh": quyet_dinh,
    "don_to_khai": don_to_khai,
    "ho_khau": ho_khau,
    "khac": khac,
}


def generate(n_per_type: int, seed: int, codes: list[str] | None = None) -> list[Sample]:
    """``n_per_type`` samples of every type (or of ``codes``), reproducible from ``seed``."""
    rnd = random.Random(seed)
    g = Gen(rnd)
    return [GENERATORS[c](g) for c in codes or GENERATORS for _ in range(n_per_type)]


# --------------------------------------------------------------------------- OCR damage

_SWAPS = [("đ", "d"), ("Đ", "D"), ("Ư", "U"), ("ư", "u"), ("ể", "ề"), ("ồ", "ô"), ("ơ", "o")]


def _damage_line(line: str, rnd: random.Random, level: float) -> str:
    words = []
    for w in line.split(" "):
        if rnd.random() < 0.25 * level:
            w = strip_diacritics(w)
        if re.fullmatch(r"\d{8,}", w) and rnd.random() < 0.3 * level:
            cut = rnd.randrange(2, len(w) - 1)
            w = w[:cut] + " " + w[cut:]
        words.append(w)
    out = []
    for ch in " ".join(words):
        r = rnd.random()
        if ch in "0O" and r < 0.05 * level:
            out.append("O" if ch == "0" else "0")
        elif ch in "1l" and r < 0.04 * level:
            out.append("l" if ch == "1" else "1")
        elif ch == "m" and r < 0.08 * level:
            out.append("rn")
        elif r < 0.03 * level:
            out.append(next((b for a, b in _SWAPS if a == ch), ch))
        elif r < 0.034 * level and ch.isalpha():
            out.append(rnd.choice(["", ch + ch, "."]))
        else:
            out.append(ch)
    return "".join(out)


def damage(text: str, seed: int, level: float = 1.0) -> str:
    """OCR-like damage of a page text, ``level`` 0 (none) to ~2 (a bad photocopy)."""
    rnd = random.Random(seed)
    if rnd.random() < 0.1 * level:
        text = strip_diacritics(text)
    lines = []
    for line in text.splitlines():
        if rnd.random() < 0.03 * level:
            continue  # a line lost under a stamp or a fold
        if lines and rnd.random() < 0.04 * level:
            lines[-1] += " " + _damage_line(line, rnd, level)  # merged lines
            continue
        lines.append(_damage_line(line, rnd, level))
        if rnd.random() < 0.03 * level:
            lines.append(rnd.choice(STAMP_WORDS) + rnd.choice(["", " ~", " '", " |"]))
    return "\n".join(lines)


def page_text(lines: list[Line]) -> str:
    """The text of rendered lines as OCR reads it (columns side by side)."""
    return "\n".join("   ".join(x) if isinstance(x, tuple) else x for x in lines)


def to_pages(
    sample: Sample, damage_seed: int | None = None, level: float = 1.0
) -> list[PageResult]:
    """The sample's pages as ``PageResult``s, damaged when ``damage_seed`` is given."""
    out = []
    for i, (lines, (w, h, dpi)) in enumerate(sample.pages):
        text = page_text(lines)
        if damage_seed is not None:
            text = damage(text, damage_seed * 31 + i, level)
        out.append(PageResult(i, 0, 0.0, text, width=w, height=h, dpi=dpi or 300))
    return out

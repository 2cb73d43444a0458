//! A [`Digest`] as an e-mail: subject, text and HTML from the minijinja
//! templates `notify/templates/digest.{vi,en}.{txt,html}` (loaded, with
//! the filters that format figures, by `notify::compose::templates`; HTML
//! auto-escaped), and the chart as an inline PNG part that the HTML shows
//! through `cid:`.

use minijinja::{Environment, context};

use super::chart::bar_chart_png;
use super::content::Digest;
use crate::domain::{EmailAddress, Language};
use crate::locale::{percent, points};
use crate::notify::compose::templates::{self, pct};
use crate::notify::compose::{MAX_SUBJECT_CHARS, one_line, truncate_chars};
use crate::storage::{DigestEmail, InlinePart, NewEmail};

/// A rendered digest, before it is addressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub chart_png: Vec<u8>,
    /// The chart's Content-ID, without angle brackets.
    pub chart_cid: String,
}

#[derive(Debug)]
pub struct DigestRenderer {
    /// The console's address, for links to the province and unit pages.
    console: Option<String>,
    env: Environment<'static>,
}

impl Default for DigestRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl DigestRenderer {
    pub fn new() -> Self {
        Self {
            env: templates::digests(),
            console: None,
        }
    }

    /// Links the digest to the console at `url` (no trailing slash), when on.
    pub fn with_console(mut self, url: Option<String>) -> Self {
        self.console = url;
        self
    }

    /// Renders `d` in `lang`. `domain` names the sender's domain, for the
    /// chart's Content-ID.
    pub fn render(
        &self,
        d: &Digest,
        lang: Language,
        domain: &str,
    ) -> Result<Rendered, minijinja::Error> {
        let subject = truncate_chars(&subject(d, lang), MAX_SUBJECT_CHARS);
        let chart_cid = format!("chart-{}-{}@{domain}", d.kind, d.period);
        let chart_alt = d
            .chart
            .iter()
            .map(|b| format!("{} {}", b.label, pct(b.value, lang.as_str())))
            .collect::<Vec<_>>()
            .join("; ");
        let ctx = context! {
            d => d,
            lang => lang.as_str(),
            subject => &subject,
            chart_cid => &chart_cid,
            chart_alt => chart_alt,
            // From the configuration (a checked http(s) URL), not upstream.
            console => self.console.clone().map(minijinja::Value::from_safe_string),
        };
        let l = lang.as_str();
        Ok(Rendered {
            text: self
                .env
                .get_template(&format!("digest.{l}.txt"))?
                .render(&ctx)?,
            html: self
                .env
                .get_template(&format!("digest.{l}.html"))?
                .render(&ctx)?,
            chart_png: bar_chart_png(&d.chart.iter().map(|b| b.value).collect::<Vec<_>>()),
            chart_cid,
            subject,
        })
    }
}

/// The subject: what, when and the headline figure, in the reader's
/// language, marked confidential when it carries a proposal. The headline
/// is the 766 index and its band only when all six groups are scored, else
/// the on-time rate when its data covers the period, else no figure at all:
/// a subject never states a figure that is incomplete.
pub fn subject(d: &Digest, lang: Language) -> String {
    let name = one_line(&d.scope_name);
    let unit_head = d.audience == "unit_head";
    let headline = match (d.score.complete, d.score.total, d.on_time.value, lang) {
        (true, Some(t), _, Language::Vi) => Some(format!(
            "Chỉ số 766{} {} điểm ({})",
            if unit_head { "" } else { " toàn tỉnh" },
            points(t, lang),
            d.score.band_vi.unwrap_or_default()
        )),
        (true, Some(t), _, Language::En) => Some(format!(
            "{}766 index {} ({})",
            if unit_head { "" } else { "province " },
            points(t, lang),
            d.score.band_en.unwrap_or_default()
        )),
        (_, _, Some(r), Language::Vi) => Some(format!("đúng hạn {}", percent(r, lang))),
        (_, _, Some(r), Language::En) => Some(format!("on time {}", percent(r, lang))),
        _ => None,
    };
    let headline = headline.map(|h| format!(": {h}")).unwrap_or_default();
    match (lang, unit_head) {
        (Language::Vi, true) => format!("[par-monitor] Bản tin {} – {name}{headline}", d.period_vi),
        (Language::En, true) => format!(
            "[par-monitor] Digest for {} – {name}{headline}",
            d.period_en
        ),
        (Language::Vi, false) => format!(
            "[par-monitor] {}Bản tin {}{headline}",
            if d.proposal.is_some() {
                "MẬT – "
            } else {
                ""
            },
            d.period_vi,
        ),
        (Language::En, false) => format!(
            "[par-monitor] {}Digest for {}{headline}",
            if d.proposal.is_some() {
                "CONFIDENTIAL – "
            } else {
                ""
            },
            d.period_en,
        ),
    }
}

/// The dedup key of one recipient's digest: a restart, a second tick or a
/// second instance never queues it twice.
pub fn dedup_key(d: &Digest, recipient: &EmailAddress) -> String {
    format!("digest:{}:{}:{}", d.kind, d.period, recipient.as_str())
}

/// The outbox row for one recipient.
pub fn email(
    rendered: &Rendered,
    d: &Digest,
    recipient: &EmailAddress,
    message_id: impl Fn(&str) -> String,
) -> DigestEmail {
    let dedup_key = dedup_key(d, recipient);
    DigestEmail {
        email: NewEmail {
            message_id: message_id(&dedup_key),
            dedup_key,
            kind: d.kind.outbox_kind(),
            recipients: vec![recipient.as_str().to_owned()],
            subject: rendered.subject.clone(),
            body_text: rendered.text.clone(),
            body_html: rendered.html.clone(),
        },
        parts: vec![InlinePart {
            content_id: rendered.chart_cid.clone(),
            mime: "image/png".into(),
            bytes: rendered.chart_png.clone(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::content::tests::input;
    use crate::digest::{Audience, build};

    fn render(audience: &Audience, lang: Language) -> (Digest, Rendered) {
        let d = build(&input(), audience).unwrap();
        let r = DigestRenderer::new()
            .render(&d, lang, "vpubnd.example")
            .unwrap();
        (d, r)
    }

    #[test]
    fn digests_link_to_the_console_pages_only_when_it_is_on() {
        let d = build(&input(), &Audience::Leadership).unwrap();
        let off = DigestRenderer::new().render(&d, Language::Vi, "x").unwrap();
        assert!(!off.html.contains("/units/") && !off.text.contains("trang giám sát"));
        let on = DigestRenderer::new()
            .with_console(Some("http://127.0.0.1:9715".into()))
            .render(&d, Language::Vi, "x")
            .unwrap();
        assert!(
            on.text
                .contains("Xem chi tiết trên trang giám sát: http://127.0.0.1:9715/")
        );
        let first = &d.bottom_units[0].code;
        assert!(
            on.html
                .contains(&format!("href=\"http://127.0.0.1:9715/units/{first}\""))
        );
    }

    #[test]
    fn subjects_read_in_the_recipients_language_with_diacritics() {
        let cases = [
            (
                Audience::Leadership,
                Language::Vi,
                "[par-monitor] Bản tin ngày 19/08/2026: Chỉ số 766 toàn tỉnh 75,00 điểm (yếu)",
            ),
            (
                Audience::Leadership,
                Language::En,
                "[par-monitor] Digest for 19/08/2026: province 766 index 75.00 (weak)",
            ),
            (
                Audience::InspectionTeam,
                Language::Vi,
                "[par-monitor] MẬT – Bản tin ngày 19/08/2026: Chỉ số 766 toàn tỉnh 75,00 điểm (yếu)",
            ),
            (
                Audience::UnitHead(crate::domain::UnitCode::parse("H44.07").unwrap()),
                Language::Vi,
                "[par-monitor] Bản tin ngày 19/08/2026 – Sở Tư pháp: Chỉ số 766 85,00 điểm (tốt)",
            ),
        ];
        for (audience, lang, expected) in cases {
            assert_eq!(render(&audience, lang).1.subject, expected);
        }
    }

    #[test]
    fn bodies_show_numbers_the_readers_way_and_the_chart_by_content_id() {
        let (_, vi) = render(&Audience::Leadership, Language::Vi);
        assert!(vi.text.contains("Tỷ lệ hồ sơ giải quyết đúng hạn: 90,0% (90/100 hồ sơ), ▲ 10,0 điểm % so với kỳ trước"), "{}", vi.text);
        assert!(
            vi.text.contains(
                "1. UBND phường Hồng Bàng (H44.100): 55,00 điểm, xếp loại yếu (▼ 5,00), đúng hạn 50,0%"
            ),
            "{}",
            vi.text
        );
        assert!(
            vi.text.contains(
                "\n     Công khai, minh bạch 9,17/18,00 · Tiến độ giải quyết 9,17/20,00 · "
            ),
            "a low scorer's groups: {}",
            vi.text
        );
        assert!(
            vi.text
                .contains("[nghiêm trọng] UBND phường Hồng Bàng (H44.100): Tiêu chí mục 2")
        );
        assert!(
            vi.text
                .contains("Hệ thống giải quyết TTHC: đang hoạt động, dữ liệu đến 20/08/2026 06:55"),
            "sources and their health in Vietnamese: {}",
            vi.text
        );
        for english in ["procedures", "healthy", "never polled", " down"] {
            assert!(
                !vi.text.contains(english) && !vi.html.contains(english),
                "{english}"
            );
        }
        assert!(
            vi.text.contains("UBND xã Không Số (H44.102)"),
            "units without data"
        );
        assert!(
            vi.html
                .contains("src=\"cid:chart-daily-2026-08-19@vpubnd.example\"")
        );
        assert_eq!(vi.chart_cid, "chart-daily-2026-08-19@vpubnd.example");
        assert_eq!(&vi.chart_png[..4], b"\x89PNG");
        let (_, en) = render(&Audience::Leadership, Language::En);
        assert!(
            en.text
                .contains("Dossiers resolved on time: 90.0% (90/100 dossiers), ▲ 10.0 pp"),
            "{}",
            en.text
        );
        assert!(!en.html.contains("Tổng điểm"));
        // The proposal only in the team's e-mail.
        let (_, team) = render(&Audience::InspectionTeam, Language::Vi);
        assert!(
            team.text
                .contains("MẬT – ĐỀ XUẤT KIỂM TRA ĐỘT XUẤT GẦN NHẤT (#3, 18/08/2026 15:00)"),
            "{}",
            team.text
        );
        assert!(!vi.text.contains("ĐỘT XUẤT") && !vi.html.contains("đột xuất"));
    }

    /// A province whose online-services and digitization groups have no
    /// score, and whose document system has not been polled since the
    /// period ended.
    fn two_groups_missing() -> Digest {
        use crate::coverage::Gap;
        use crate::domain::{SourceHealth, SourceId};
        use crate::score766::Group;
        let mut data = input();
        for o in data.current.iter_mut().chain(data.previous.iter_mut()) {
            for g in [Group::OnlineServices, Group::Digitization] {
                o.score.groups.insert(g, None);
            }
            let scored: Vec<f64> = o.score.groups.values().flatten().copied().collect();
            o.score.total = (!scored.is_empty()).then(|| scored.iter().sum());
            o.score.attainable = 66.0;
            o.score.missing = vec![Group::OnlineServices, Group::Digitization];
            o.score.band = None;
        }
        data.sources.push(crate::digest::content::SourceFact {
            source: SourceId::Documents,
            health: SourceHealth::Down,
            data_as_of: Some(crate::time::local_to_utc(
                chrono::NaiveDate::from_ymd_opt(2026, 8, 19)
                    .unwrap()
                    .and_hms_opt(16, 40, 0)
                    .unwrap(),
            )),
            stale: true,
            gap: Some(Gap::NotSinceEnd {
                health: SourceHealth::Down,
                data_as_of: crate::time::local_to_utc(
                    chrono::NaiveDate::from_ymd_opt(2026, 8, 19)
                        .unwrap()
                        .and_hms_opt(16, 40, 0)
                        .unwrap(),
                ),
            }),
        });
        build(&data, &Audience::Leadership).unwrap()
    }

    #[test]
    fn a_digest_with_two_groups_missing_states_no_total_band_or_score_in_its_subject() {
        let d = two_groups_missing();
        let r = DigestRenderer::new()
            .render(&d, Language::Vi, "vpubnd.example")
            .unwrap();
        // The subject carries the on-time rate, complete, and no score.
        assert_eq!(
            r.subject,
            "[par-monitor] Bản tin ngày 19/08/2026: đúng hạn 90,0%"
        );
        assert!(!r.text.contains("xếp loại"), "no band: {}", r.text);
        insta::assert_snapshot!("digest_two_groups_missing_vi_txt", r.text);
        let en = DigestRenderer::new()
            .render(&d, Language::En, "vpubnd.example")
            .unwrap();
        assert_eq!(
            en.subject,
            "[par-monitor] Digest for 19/08/2026: on time 90.0%"
        );
        insta::assert_snapshot!("digest_two_groups_missing_en_txt", en.text);
    }

    #[test]
    fn findings_of_a_period_before_the_first_evaluation_are_unknown_not_zero() {
        let render = |watched: &str| {
            let mut data = input();
            data.findings.clear();
            data.watched_since = Some(crate::time::local_to_utc(
                chrono::NaiveDateTime::parse_from_str(watched, "%d/%m/%Y %H:%M").unwrap(),
            ));
            let d = build(&data, &Audience::Leadership).unwrap();
            let r = DigestRenderer::new()
                .render(&d, Language::Vi, "vpubnd.example")
                .unwrap();
            (r.text, r.html)
        };
        // Began the morning after the day the digest speaks of.
        let (text, html) = render("20/08/2026 08:00");
        assert!(
            text.contains("Chưa có dữ liệu: par-monitor chưa đánh giá trong kỳ này (bắt đầu đánh giá từ 20/08/2026 08:00)."),
            "{text}"
        );
        assert!(
            html.contains("Chưa có dữ liệu: par-monitor chưa đánh giá trong kỳ này"),
            "{html}"
        );
        for body in [&text, &html] {
            assert!(
                !body.contains("Còn mở cuối kỳ"),
                "no count of findings: {body}"
            );
        }
        // Began during the day: counted, and said to be counted since then.
        let (text, _) = render("19/08/2026 10:30");
        assert!(
            text.contains("Chỉ tính từ khi par-monitor bắt đầu đánh giá (19/08/2026 10:30)."),
            "{text}"
        );
        assert!(
            text.contains("Mới: 0 · Đã khắc phục: 0 · Còn mở cuối kỳ: 0"),
            "{text}"
        );
        // Watched all along: the counts alone.
        let (text, _) = render("01/08/2026 08:00");
        assert!(!text.contains("par-monitor bắt đầu"), "{text}");
        assert!(text.contains("Mới: 0"), "{text}");
    }

    #[test]
    fn the_national_rank_is_told_to_leadership_and_never_to_a_unit_head() {
        use crate::digest::content::NationalFact;
        use crate::domain::{NationalStanding, Rank};
        let mut data = input();
        data.national = Some(NationalFact {
            year: 2026,
            standing: NationalStanding {
                total: Some(Rank { rank: 12, of: 34 }),
                groups: [
                    ("PROGRESS".to_owned(), Rank { rank: 3, of: 34 }),
                    ("TRANSPARENCY".to_owned(), Rank { rank: 20, of: 33 }),
                ]
                .into(),
            },
            total: Some(81.25),
            as_of: Some(crate::time::local_to_utc(
                chrono::NaiveDateTime::parse_from_str("20/08/2026 06:00", "%d/%m/%Y %H:%M")
                    .unwrap(),
            )),
            stale: false,
        });
        let body = |data: &crate::digest::DigestInput, audience: &Audience, lang| {
            let d = build(data, audience).unwrap();
            DigestRenderer::new()
                .render(&d, lang, "vpubnd.example")
                .unwrap()
        };
        let vi = body(&data, &Audience::Leadership, Language::Vi);
        assert!(
            vi.text.contains("Xếp hạng toàn quốc năm 2026 (Cổng Dịch vụ công quốc gia, cập nhật 20/08/2026 06:00): hạng 12/34 tỉnh, thành phố, tổng điểm 81,25/100\n"),
            "{}",
            vi.text
        );
        // The portal's order, not the map's.
        assert!(
            vi.text.contains(
                "  - Công khai, minh bạch: hạng 20/33\n  - Tiến độ giải quyết: hạng 3/34\n"
            ),
            "{}",
            vi.text
        );
        assert!(
            vi.html.contains("<strong>hạng 12/34</strong>"),
            "{}",
            vi.html
        );
        let en = body(&data, &Audience::Leadership, Language::En);
        assert!(
            en.text
                .contains("): 12 of 34 provinces and cities, total 81.25/100"),
            "{}",
            en.text
        );
        let unit = body(
            &data,
            &Audience::UnitHead(crate::domain::UnitCode::parse("H44.07").unwrap()),
            Language::Vi,
        );
        assert!(!unit.text.contains("toàn quốc"), "{}", unit.text);
        // Stale: said so beside the rank.
        data.national.as_mut().unwrap().stale = true;
        let vi = body(&data, &Audience::Leadership, Language::Vi);
        assert!(
            vi.text
                .contains("tổng điểm 81,25/100 (CŨ: chưa cập nhật lại từ Cổng)"),
            "{}",
            vi.text
        );
    }

    #[test]
    fn the_portals_official_scores_stand_beside_ours_unless_its_data_is_left_out() {
        use crate::overview::GroupComparison;
        use crate::score766::Group;
        let mut data = input();
        let official = [Some(10.0), None, Some(12.0)];
        data.current[0].comparison = Group::ALL
            .iter()
            .zip(official.into_iter().chain(std::iter::repeat(None)))
            .enumerate()
            .map(|(i, (g, official))| GroupComparison {
                group: *g,
                ours: Some(10.0 + i as f64 / 2.0),
                official,
                difference: official.map(|o| 10.0 + i as f64 / 2.0 - o),
            })
            .collect();
        data.current[0].official_total = Some(70.0);
        let text = |data: &crate::digest::DigestInput, lang| {
            let d = build(data, &Audience::Leadership).unwrap();
            DigestRenderer::new()
                .render(&d, lang, "vpubnd.example")
                .unwrap()
        };
        let vi = text(&data, Language::Vi);
        assert!(
            vi.text
                .contains("\nĐiểm chính thức trên Cổng Dịch vụ công quốc gia: 70,00/100 (so sánh"),
            "{}",
            vi.text
        );
        assert!(
            vi.text.contains("; Cổng: 10,00, bằng nhau\n"),
            "{}",
            vi.text
        );
        assert!(
            vi.text.contains("; Cổng: chưa có điểm\n"),
            "no score is not 0: {}",
            vi.text
        );
        assert!(
            vi.text.contains("; Cổng: 12,00, chênh lệch ▼ 1,00\n"),
            "{}",
            vi.text
        );
        assert!(
            vi.html
                .contains("<th bgcolor=\"#eeeeee\" align=\"right\">Cổng</th>"),
            "{}",
            vi.html
        );
        let en = text(&data, Language::En);
        assert!(
            en.text.contains("; portal: 12.00, difference ▼ 1.00\n"),
            "{}",
            en.text
        );
        // The portal's data is left out of this digest: no official figure.
        let health = crate::domain::SourceHealth::Down;
        data.sources.push(crate::digest::content::SourceFact {
            source: crate::domain::SourceId::Portal,
            health,
            data_as_of: None,
            stale: true,
            gap: Some(crate::coverage::Gap::NeverPolled { health }),
        });
        let vi = text(&data, Language::Vi);
        assert!(!vi.text.contains("Cổng:"), "{}", vi.text);
        assert!(!vi.text.contains("Điểm chính thức"), "{}", vi.text);
    }

    #[test]
    fn hostile_names_are_escaped_in_html_and_kept_out_of_headers() {
        let mut data = input();
        data.current[1].name = "<script>alert(1)</script>\r\nBcc: x@y.example".into();
        let d = build(
            &data,
            &Audience::UnitHead(crate::domain::UnitCode::parse("H44.07").unwrap()),
        )
        .unwrap();
        let r = DigestRenderer::new()
            .render(&d, Language::Vi, "vpubnd.example")
            .unwrap();
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;"));
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
    }

    #[test]
    fn one_recipients_row_has_its_dedup_key_kind_and_chart() {
        let (d, r) = render(&Audience::Leadership, Language::Vi);
        let to = EmailAddress::parse("chutich@ubnd.example").unwrap();
        let e = email(&r, &d, &to, |k| format!("<{k}>"));
        assert_eq!(
            e.email.dedup_key,
            "digest:daily:2026-08-19:chutich@ubnd.example"
        );
        assert_eq!(e.email.kind, "digest_daily");
        assert_eq!(e.email.recipients, ["chutich@ubnd.example"]);
        assert_eq!(e.parts.len(), 1);
        assert_eq!(e.parts[0].mime, "image/png");
    }
}

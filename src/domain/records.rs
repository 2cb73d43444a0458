//! The records par-monitor ingests, independent of any vendor's wire
//! format. All times are UTC. Connectors map upstream JSON into these; the
//! mapping (field paths, code tables, date formats) is configuration.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UnitCode;

/// Declares a closed set of named values: `ALL`, `as_str`, `Display` and
/// `FromStr` by the snake_case names used in config, storage and metrics.
macro_rules! named_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}`: expected one of {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

named_enum! {
    /// TrangThaiHoSo, the dossier status.
    pub enum DossierStatus {
        NewlyRegistered => "newly_registered",
        Received => "received",
        Refused => "refused",
        InProgress => "in_progress",
        SupplementRequested => "supplement_requested",
        AwaitingFees => "awaiting_fees",
        Withdrawn => "withdrawn",
        Stopped => "stopped",
        Done => "done",
        Returned => "returned",
    }
}

impl DossierStatus {
    /// The code (1–10) of domain.md's default mapping, also used in storage.
    pub fn code(self) -> u8 {
        match self {
            DossierStatus::NewlyRegistered => 1,
            DossierStatus::Received => 2,
            DossierStatus::Refused => 3,
            DossierStatus::InProgress => 4,
            DossierStatus::SupplementRequested => 5,
            DossierStatus::AwaitingFees => 6,
            DossierStatus::Withdrawn => 7,
            DossierStatus::Stopped => 8,
            DossierStatus::Done => 9,
            DossierStatus::Returned => 10,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// Whether processing has ended (refused, withdrawn, stopped, done or returned).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DossierStatus::Refused
                | DossierStatus::Withdrawn
                | DossierStatus::Stopped
                | DossierStatus::Done
                | DossierStatus::Returned
        )
    }
}

named_enum! {
    /// KenhThucHien: how the dossier was submitted.
    pub enum Channel {
        InPerson => "in_person",
        Online => "online",
        Postal => "postal",
    }
}

impl Channel {
    pub fn code(self) -> u8 {
        match self {
            Channel::InPerson => 1,
            Channel::Online => 2,
            Channel::Postal => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }
}

named_enum! {
    /// DuocThanhToanTrucTuyen: where the fees were paid online, if at all.
    pub enum OnlinePayment {
        NotPaidOnline => "not_paid_online",
        NationalPortal => "national_portal",
        ProvincialGateway => "provincial_gateway",
    }
}

impl OnlinePayment {
    pub fn is_online(self) -> bool {
        !matches!(self, OnlinePayment::NotPaidOnline)
    }
}

named_enum! {
    /// How satisfied the applicant or petitioner said they were.
    pub enum Satisfaction {
        Satisfied => "satisfied",
        Neutral => "neutral",
        Dissatisfied => "dissatisfied",
    }
}

/// One supplement request (yêu cầu bổ sung) in DanhSachHoSoBoSung.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequest {
    pub requested_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub old_due_at: Option<DateTime<Utc>>,
    pub new_due_at: Option<DateTime<Utc>>,
}

/// An apology notice (phiếu xin lỗi) for a late dossier, with its new date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apology {
    pub issued_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub new_due_at: Option<DateTime<Utc>>,
}

/// The submitted components (TaiLieuNop) of a dossier, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentCounts {
    pub total: u32,
    /// Components digitized (DuocSoHoa).
    pub digitized: u32,
    /// Components taken from already-digitized data (DuocTaiSuDung).
    pub reused: u32,
}

/// A dossier (hồ sơ) of the one-stop shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    pub code: String,
    pub unit_code: UnitCode,
    pub procedure_code: String,
    pub procedure_name: Option<String>,
    /// MaLinhVuc, the field of procedures.
    #[serde(default)]
    pub field_code: Option<String>,
    pub channel: Channel,
    pub status: DossierStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub refused_at: Option<DateTime<Utc>>,
    pub supplements: Vec<SupplementRequest>,
    #[serde(default)]
    pub apologies: Vec<Apology>,
    /// Whether the procedure carries fees (CoNghiaVuTaiChinh, or a fee list).
    #[serde(default)]
    pub has_fees: bool,
    #[serde(default = "not_paid_online")]
    pub online_payment: OnlinePayment,
    /// HoSoCoThanhPhanSoHoa: the dossier's components were digitized.
    #[serde(default)]
    pub digitized: bool,
    #[serde(default)]
    pub components: ComponentCounts,
    /// A result document with an electronic file (DuongDanTepTinKetQua).
    #[serde(default)]
    pub e_result: bool,
    /// TaiKhoanDuocXacThucVoiVNeID.
    #[serde(default)]
    pub vneid_authenticated: bool,
    /// Synced to the national public-service portal.
    #[serde(default)]
    pub synced_to_portal: bool,
    /// Digitized results shared to the citizen's personal data store.
    #[serde(default)]
    pub shared_to_citizen_store: bool,
    /// Data taken from the national population database.
    #[serde(default)]
    pub used_population_data: bool,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
    /// When the upstream last changed the record (drives incremental polling).
    pub updated_at: Option<DateTime<Utc>>,
}

fn not_paid_online() -> OnlinePayment {
    OnlinePayment::NotPaidOnline
}

impl Dossier {
    /// The end of processing, by Decision 766's priority: processing done,
    /// then result returned, then stopped/refused. A terminal dossier
    /// without any of these dates (typically a withdrawal) ends at its last
    /// upstream change, the only trace of when the status was set. `None`
    /// while the dossier is still being processed.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        if !self.status.is_terminal() {
            return None;
        }
        self.finished_at
            .or(self.returned_at)
            .or(self.refused_at)
            .or(self.updated_at)
    }

    /// A dossier with only its identity set; the rest empty. Connectors and
    /// tests fill in what they know.
    pub fn new(
        code: impl Into<String>,
        unit_code: UnitCode,
        procedure_code: impl Into<String>,
    ) -> Dossier {
        Dossier {
            code: code.into(),
            unit_code,
            procedure_code: procedure_code.into(),
            procedure_name: None,
            field_code: None,
            channel: Channel::InPerson,
            status: DossierStatus::Received,
            submitted_at: None,
            received_at: None,
            due_at: None,
            finished_at: None,
            returned_at: None,
            refused_at: None,
            supplements: Vec::new(),
            apologies: Vec::new(),
            has_fees: false,
            online_payment: OnlinePayment::NotPaidOnline,
            digitized: false,
            components: ComponentCounts::default(),
            e_result: false,
            vneid_authenticated: false,
            synced_to_portal: false,
            shared_to_citizen_store: false,
            used_population_data: false,
            satisfaction: None,
            updated_at: None,
        }
    }
}

named_enum! {
    /// What a petition (phản ánh kiến nghị) is about.
    pub enum PetitionCategory {
        Procedure => "procedure",
        Conduct => "conduct",
        Other => "other",
    }
}

/// A petition or piece of feedback (PAKN) from the procedure-handling system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Petition {
    pub code: String,
    pub unit_code: UnitCode,
    pub category: PetitionCategory,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub updated_at: Option<DateTime<Utc>>,
}

named_enum! {
    /// Văn bản đi / đến.
    pub enum Direction {
        Outgoing => "outgoing",
        Incoming => "incoming",
    }
}

named_enum! {
    /// Message status on the national interconnection axis (trục liên thông).
    pub enum AxisStatus {
        Inbox => "inbox",
        Acceptance => "acceptance",
        Rejection => "rejection",
        Processing => "processing",
        Done => "done",
        Fail => "fail",
    }
}

/// A document from the document-management system (QLVB&ĐH).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: String,
    pub unit_code: UnitCode,
    pub direction: Direction,
    pub registered_at: Option<DateTime<Utc>>,
    /// Sent (or received) electronically over the interconnection axis.
    pub electronic: bool,
    pub axis_status: Option<AxisStatus>,
    pub signed: bool,
    /// Whether the digital signature verified; `None` when not checked.
    pub signature_verified: Option<bool>,
    /// Processing deadline (incoming documents).
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Filed into an electronic work file (hồ sơ công việc điện tử).
    pub filed_electronically: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

named_enum! {
    /// Status of a report in the online reporting system.
    pub enum ReportStatus {
        Draft => "draft",
        Submitted => "submitted",
        Returned => "returned",
        Accepted => "accepted",
    }
}

/// A report obligation of a unit and its submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: String,
    pub unit_code: UnitCode,
    pub report_type: String,
    pub title: Option<String>,
    /// The reporting period as the upstream names it (e.g. `2026-08`, `2026-Q3`).
    pub period: String,
    pub due_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub status: ReportStatus,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The national portal's official Decision 766 scores for a unit and
/// period, stored as reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalScore {
    pub unit_code: UnitCode,
    pub period: String,
    pub total: Option<f64>,
    /// Group scores keyed by the group code (`TRANSPARENCY`, `PROGRESS`, …).
    pub groups: std::collections::BTreeMap<String, Option<f64>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// What the portal's evaluation API says besides the group scores.
    #[serde(default)]
    pub details: PortalDetails,
}

/// The portal's figures behind a unit's scores, where it gives them
/// (`protocol = "dvcqg-evaluation"`); empty for the generic feed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PortalDetails {
    /// The unit's name as the portal gives it (kept for units the directory
    /// does not know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    /// The portal's `departmentId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<String>,
    /// Per-indicator scores by the portal's indicator code; `None` is no score.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub indicators: std::collections::BTreeMap<String, Option<f64>>,
    /// The portal's own data-quality warnings (`dataQualityMessage`), as
    /// `INDICATOR: message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Where the province stands among all provinces (the province's
    /// yearly score only, from the portal's nationwide `service-results`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national: Option<NationalStanding>,
}

/// The province's rank among all provinces for a year, by total and by
/// group: 1 is the highest score, provinces with equal scores share a rank
/// (the next rank is skipped), and only provinces with a score are ranked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NationalStanding {
    /// By the total; `None` when the province itself has no total.
    pub total: Option<Rank>,
    /// By group code (`TRANSPARENCY`, …), where the province has a score.
    #[serde(default)]
    pub groups: std::collections::BTreeMap<String, Rank>,
}

/// A place in a ranking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rank {
    pub rank: u32,
    /// How many were ranked.
    pub of: u32,
}

impl Rank {
    /// The rank of `ours` among `all` (which includes it), highest first;
    /// `None` when `ours` is `None`. Scores within rounding (0.005) are equal.
    pub fn among(ours: Option<f64>, all: impl IntoIterator<Item = Option<f64>>) -> Option<Rank> {
        let ours = ours?;
        let scored: Vec<f64> = all.into_iter().flatten().collect();
        let above = scored.iter().filter(|s| **s > ours + 0.005).count();
        Some(Rank {
            rank: u32::try_from(above + 1).unwrap_or(u32::MAX),
            of: u32::try_from(scored.len().max(above + 1)).unwrap_or(u32::MAX),
        })
    }
}

impl PortalDetails {
    pub fn is_empty(&self) -> bool {
        *self == PortalDetails::default()
    }
}

//! Who is looking, and what they may see and do. Every handler asks here
//! before it reads: a unit head sees their own unit only, never a proposal
//! and never the risk ranking; leadership sees every unit, read-only; the
//! inspection team sees and does everything.

use crate::domain::{Language, Role, UnitCode};

use super::WebError;

/// The signed-in person, as the session (or a trusted proxy) names them.
#[derive(Clone)]
pub struct Viewer {
    /// The account name, recorded as the actor of their actions.
    pub name: String,
    pub role: Role,
    /// A unit head's unit; `None` for the other roles.
    pub unit: Option<UnitCode>,
    pub language: Language,
    /// The session's token that every form which changes something carries.
    pub csrf_token: String,
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("unit", &self.unit)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl Viewer {
    /// The one unit a query must be limited to, for a unit head.
    pub fn scope(&self) -> Option<&UnitCode> {
        match self.role {
            Role::UnitHead => self.unit.as_ref(),
            Role::Inspection | Role::Leadership => None,
        }
    }

    pub fn sees_unit(&self, code: &UnitCode) -> bool {
        match self.role {
            Role::UnitHead => self.unit.as_ref() == Some(code),
            Role::Inspection | Role::Leadership => true,
        }
    }

    /// Refuses, and logs the attempt, when the viewer may not see `code`.
    pub fn require_unit(&self, code: &UnitCode) -> Result<(), WebError> {
        if self.sees_unit(code) {
            return Ok(());
        }
        Err(self.refuse(&format!("unit {code}")))
    }

    /// Risk ranking and unannounced-inspection proposals: the team only.
    pub fn sees_inspections(&self) -> bool {
        self.role == Role::Inspection
    }

    pub fn require_inspections(&self) -> Result<(), WebError> {
        if self.sees_inspections() {
            return Ok(());
        }
        Err(self.refuse("inspections"))
    }

    /// Silence and resolve: the team only.
    pub fn may_act(&self) -> bool {
        self.role == Role::Inspection
    }

    /// Acknowledge: the team, or the head of the finding's unit.
    pub fn may_acknowledge(&self, unit: &UnitCode) -> bool {
        match self.role {
            Role::Inspection => true,
            Role::UnitHead => self.unit.as_ref() == Some(unit),
            Role::Leadership => false,
        }
    }

    /// A refusal for `what`, logged with who asked.
    pub fn refuse(&self, what: &str) -> WebError {
        tracing::warn!(
            user = %self.name,
            role = %self.role,
            unit = ?self.unit.as_ref().map(UnitCode::as_str),
            what,
            "console: access refused"
        );
        WebError::Forbidden(what.to_owned())
    }

    /// Checks a form's `csrf_token` against the session's, in time that
    /// does not depend on where they differ.
    pub fn check_csrf(&self, presented: &str) -> Result<(), WebError> {
        let (a, b) = (self.csrf_token.as_bytes(), presented.as_bytes());
        let same = !a.is_empty()
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            return Ok(());
        }
        tracing::warn!(user = %self.name, "console: form refused, missing or wrong CSRF token");
        Err(WebError::Forbidden("csrf".into()))
    }
}

#[cfg(test)]
mod tests;

//! Document indicators, from the document-management system (QLVB&ĐH), by
//! the time a document was registered.
//!
//! Rules where domain.md leaves room:
//! - `outgoing_electronic`: sent over the interconnection axis, unless the
//!   axis reports the message failed: a failed transmission did not send
//!   anything. A rejection still counts as sent (the recipient got it).
//! - `outgoing_signed`: among outgoing documents sent electronically (as
//!   above).
//! - `signature_verified`: among signed *outgoing* documents, the unit's
//!   own signatures; incoming documents carry the sender's. A signature not
//!   checked (`None`) is not verified: unknown is not compliant.
//! - `work_files_electronic`: every document of the unit, both directions.
//! - `incoming_overdue`: an incoming document with a deadline is overdue if
//!   it was completed after the deadline, or is not completed and the
//!   deadline has passed at `as_of`. One completed exactly at its deadline is
//!   on time.

use crate::domain::{AxisStatus, Direction, Document};

use super::{IndicatorId as I, Tallies, Window};

/// Counts one document into its unit's tallies.
pub(crate) fn count<'a>(doc: &'a Document, w: &Window<'_>, tallies: &mut Tallies<'a>) {
    if !doc.registered_at.is_some_and(|t| w.contains(t)) {
        return;
    }
    let (id, limit) = (doc.id.as_str(), w.sample_limit);
    tallies.record(I::WorkFilesElectronic, doc.filed_electronically, id, limit);
    match doc.direction {
        Direction::Outgoing => {
            let sent = doc.electronic && doc.axis_status != Some(AxisStatus::Fail);
            tallies.record(I::OutgoingElectronic, sent, id, limit);
            if sent {
                tallies.record(I::OutgoingSigned, doc.signed, id, limit);
            }
            if doc.signed {
                let verified = doc.signature_verified == Some(true);
                tallies.record(I::SignatureVerified, verified, id, limit);
            }
        }
        Direction::Incoming => {
            if let Some(due) = doc.due_at {
                let overdue = match doc.completed_at {
                    Some(completed) => completed > due,
                    None => w.as_of > due,
                };
                tallies.record(I::IncomingOverdue, !overdue, id, limit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::super::IndicatorId as I;
    use super::super::fixtures::{at, check, document};
    use crate::domain::{AxisStatus, Direction, Document};

    fn outgoing(id: &str) -> Document {
        document(id, Direction::Outgoing)
    }

    fn sent(id: &str, status: AxisStatus) -> Document {
        Document {
            electronic: true,
            axis_status: Some(status),
            ..outgoing(id)
        }
    }

    fn incoming(
        id: &str,
        due: Option<DateTime<Utc>>,
        completed: Option<DateTime<Utc>>,
    ) -> Document {
        Document {
            due_at: due,
            completed_at: completed,
            ..document(id, Direction::Incoming)
        }
    }

    #[test]
    fn outgoing_documents_count_as_sent_electronically_unless_the_axis_failed() {
        let documents = [
            sent("O1", AxisStatus::Done),
            // The transmission failed: nothing was sent.
            sent("O2", AxisStatus::Fail),
            // On paper.
            outgoing("O3"),
            // Rejected by the recipient, but it went over the axis.
            sent("O4", AxisStatus::Rejection),
            // Incoming: outside the indicator.
            Document {
                electronic: true,
                ..document("I1", Direction::Incoming)
            },
            // Registered in July.
            Document {
                registered_at: Some(at(31, 7, 9)),
                ..sent("O5", AxisStatus::Done)
            },
        ];
        // Outgoing in August: O1 to O4. Sent: O1, O4. 2/4.
        check(
            &documents,
            "2026-08",
            at(5, 9, 10),
            I::OutgoingElectronic,
            (2, 4),
            &["O2", "O3"],
        );
    }

    #[test]
    fn outgoing_signed_counts_signatures_among_documents_sent_electronically() {
        let documents = [
            Document {
                signed: true,
                ..sent("O1", AxisStatus::Done)
            },
            sent("O2", AxisStatus::Done),
            // Signed, but on paper: not sent electronically, not counted.
            Document {
                signed: true,
                ..outgoing("O3")
            },
        ];
        check(
            &documents,
            "2026-08",
            at(5, 9, 10),
            I::OutgoingSigned,
            (1, 2),
            &["O2"],
        );
    }

    #[test]
    fn a_signature_not_checked_is_not_verified() {
        let signed = |id, verified| Document {
            signed: true,
            signature_verified: verified,
            ..sent(id, AxisStatus::Done)
        };
        let documents = [
            signed("O1", Some(true)),
            // Unknown is not compliant.
            signed("O2", None),
            signed("O3", Some(false)),
            // Unsigned: outside the indicator.
            sent("O4", AxisStatus::Done),
            // The sender's signature on an incoming document is not the unit's.
            Document {
                signed: true,
                signature_verified: Some(false),
                ..document("I1", Direction::Incoming)
            },
        ];
        check(
            &documents,
            "2026-08",
            at(5, 9, 10),
            I::SignatureVerified,
            (1, 3),
            &["O2", "O3"],
        );
    }

    #[test]
    fn work_files_count_every_document_of_the_unit() {
        let filed = |doc: Document| Document {
            filed_electronically: true,
            ..doc
        };
        let documents = [
            filed(outgoing("O1")),
            filed(document("I1", Direction::Incoming)),
            outgoing("O2"),
        ];
        check(
            &documents,
            "2026-08",
            at(5, 9, 10),
            I::WorkFilesElectronic,
            (2, 3),
            &["O2"],
        );
    }

    #[test]
    fn incoming_documents_are_overdue_if_finished_late_or_still_open_past_the_deadline() {
        let documents = [
            // Completed exactly at its deadline, 10/8 17:00: on time.
            incoming("I1", Some(at(10, 8, 17)), Some(at(10, 8, 17))),
            // Completed 11/8 09:00, after it: overdue.
            incoming("I2", Some(at(10, 8, 17)), Some(at(11, 8, 9))),
            // Due 20/8, open on 5/9: overdue.
            incoming("I3", Some(at(20, 8, 17)), None),
            // Due 10/9, open on 5/9: not yet overdue.
            incoming("I4", Some(at(10, 9, 17)), None),
            // No deadline: outside the indicator.
            incoming("I5", None, None),
            // Outgoing documents have no processing deadline here.
            Document {
                due_at: Some(at(4, 8, 17)),
                ..outgoing("O1")
            },
        ];
        // With a deadline: I1 to I4. Overdue: I2, I3. 2/4.
        check(
            &documents,
            "2026-08",
            at(5, 9, 10),
            I::IncomingOverdue,
            (2, 4),
            &["I2", "I3"],
        );
        // On 15/8 I3 (due 20/8) is still within its deadline: only I2. 1/4.
        check(
            &documents,
            "2026-08",
            at(15, 8, 10),
            I::IncomingOverdue,
            (1, 4),
            &["I2"],
        );
    }
}

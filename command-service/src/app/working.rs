//! The working set of one command transaction: the leads it loaded, the dedup key index it
//! maintains in memory as it decides item after item (so items of one batch dedup against
//! each other), and the events it will append, all committed together.

use super::error::CommandError;
use super::repo::{NoteIndex, SNAPSHOT_EVERY};
use shared::dedup::{keys_of, DedupKey, FoldedName, KeyKind};
use shared::events::lead::LeadEvent;
use shared::events::{DomainEvent, EventMetadata};
use shared::lead::decide::{decide_score, PushMatches, Rejected};
use shared::lead::Lead;
use shared::scoring::Rule;
use shared::store::{ExpectedVersion, StreamAppend};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// What a command records, all in its transaction: the events of each touched stream
/// (compare-and-set on the version it loaded), the dedup keys that changed, the snapshots
/// that are due, and a note's index entry.
#[derive(Debug, Default)]
pub struct Changes {
    pub tenant: Uuid,
    pub appends: Vec<StreamAppend>,
    /// `(lead, key)` pairs.
    pub keys_removed: Vec<(Uuid, DedupKey)>,
    pub keys_added: Vec<(Uuid, DedupKey)>,
    /// `(lead, version, state)`.
    pub snapshots: Vec<(Uuid, i64, serde_json::Value)>,
    pub note: Option<(Uuid, NoteIndex)>,
}

pub struct WorkingSet {
    tenant: Uuid,
    leads: HashMap<Uuid, Lead>,
    index: HashMap<DedupKey, Vec<Uuid>>,
    /// Touched leads in first-touch order, with their version and keys before this command
    /// (`None` while only events that leave the keys alone were recorded: scores, notes).
    touched: Vec<(Uuid, Option<i64>, Option<BTreeSet<DedupKey>>)>,
    /// Position of each touched lead in `touched`.
    touched_at: HashMap<Uuid, usize>,
    pending: HashMap<Uuid, Vec<LeadEvent>>,
    /// Each lead's name folded for phone+name matching, computed once (batch items compare
    /// against the same leads over and over).
    folded: HashMap<Uuid, FoldedName>,
    /// The plan's lead limit and how many more leads it allows (`None`: no limit).
    room: Option<(u64, u64)>,
    /// A note command's change to `note_index` (lead, change).
    note: Option<(Uuid, NoteIndex)>,
    /// The tenant's rules, when they were read with the leads.
    rules: Option<Vec<Rule>>,
}

fn live_keys(lead: &Lead) -> BTreeSet<DedupKey> {
    if lead.deleted {
        BTreeSet::new()
    } else {
        keys_of(&lead.fields).into_iter().collect()
    }
}

impl WorkingSet {
    pub fn new(tenant: Uuid, leads: HashMap<Uuid, Lead>, owners: Vec<(DedupKey, Uuid)>) -> Self {
        let mut index: HashMap<DedupKey, Vec<Uuid>> = HashMap::new();
        for (key, id) in owners {
            index.entry(key).or_default().push(id);
        }
        let folded = leads
            .values()
            .map(|l| (l.id, FoldedName::new(l.name())))
            .collect();
        Self {
            tenant,
            leads,
            folded,
            index,
            touched: Vec::new(),
            touched_at: HashMap::new(),
            pending: HashMap::new(),
            room: None,
            note: None,
            rules: None,
        }
    }

    pub fn with_rules(mut self, rules: Vec<Rule>) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The rules read with the leads, if they were.
    pub fn take_rules(&mut self) -> Option<Vec<Rule>> {
        self.rules.take()
    }

    pub fn with_room(mut self, room: Option<(u64, u64)>) -> Self {
        self.room = room;
        self
    }

    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    /// Whether the command touched any lead (else it records nothing).
    pub fn touched_any(&self) -> bool {
        !self.touched.is_empty()
    }

    /// A live lead of this working set, or 404.
    pub fn live(&self, id: Uuid) -> Result<Lead, CommandError> {
        self.leads
            .get(&id)
            .filter(|l| !l.deleted)
            .cloned()
            .ok_or(CommandError::NotFound("Lead not found"))
    }

    /// One more lead created under the plan's limit, or refused.
    pub fn claim_room(&mut self) -> Result<(), Rejected> {
        match &mut self.room {
            Some((max, 0)) => Err(Rejected::LeadsLimitReached(*max)),
            Some((_, left)) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Marks a loaded lead for rescoring without an event of its own (rescoring on request
    /// and in the background).
    pub fn touch(&mut self, id: Uuid) {
        let Some(lead) = self.leads.get(&id) else {
            return;
        };
        if !self.touched_at.contains_key(&id) {
            self.touched_at.insert(id, self.touched.len());
            self.touched.push((id, Some(lead.version), None));
        }
    }

    /// Records the `note_index` change of a note command on lead `lead`.
    pub fn note_index(&mut self, lead: Uuid, change: NoteIndex) {
        self.note = Some((lead, change));
    }

    pub fn get(&self, id: Uuid) -> Option<&Lead> {
        self.leads.get(&id)
    }

    fn live_owners(&self, key: &DedupKey) -> Vec<&Lead> {
        let mut out: Vec<&Lead> = self
            .index
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|id| self.leads.get(id))
            .filter(|l| !l.deleted)
            .collect();
        out.sort_by_key(|l| (l.created_at, l.id));
        out
    }

    /// Who holds a unique key now, in this transaction's view (keys of deleted leads leave
    /// the index when the deletion is recorded, and are not stored in the database).
    pub fn owner(&self, key: &DedupKey) -> Option<Uuid> {
        self.index.get(key).and_then(|ids| ids.first()).copied()
    }

    /// Live leads sharing one of `keys` (the pushed lead's keys), by tier.
    pub fn matches(&self, keys: &[DedupKey]) -> PushMatches<'_> {
        let mut m = PushMatches {
            folded: Some(&self.folded),
            ..PushMatches::default()
        };
        for key in keys {
            let owners = self.live_owners(key);
            match key.kind {
                KeyKind::Email => m.by_email = owners.first().copied(),
                KeyKind::SourceId => m.by_source_id = owners.first().copied(),
                KeyKind::Phone => m.by_phone = owners,
                KeyKind::NameCity => m.by_name_city = owners,
            }
        }
        m
    }

    /// Records a decided event and the state after it.
    pub fn record(&mut self, after: Lead, event: LeadEvent) {
        let id = after.id;
        let before = self.leads.get(&id);
        let moves_keys = !matches!(
            event,
            LeadEvent::Scored(_)
                | LeadEvent::NoteAdded(_)
                | LeadEvent::NoteEdited(_)
                | LeadEvent::NoteRemoved(_)
        );
        match self.touched_at.get(&id) {
            None => {
                let (version, keys) = match before {
                    None => (None, Some(BTreeSet::new())),
                    Some(l) => (Some(l.version), moves_keys.then(|| live_keys(l))),
                };
                self.touched_at.insert(id, self.touched.len());
                self.touched.push((id, version, keys));
            }
            // The events so far left the keys alone: the keys before this one are the keys
            // before the command.
            Some(&i) if moves_keys && self.touched[i].2.is_none() => {
                self.touched[i].2 = Some(before.map(live_keys).unwrap_or_default());
            }
            Some(_) => {}
        }
        if !moves_keys {
            self.leads.insert(id, after);
            self.pending.entry(id).or_default().push(event);
            return;
        }
        if before.is_none_or(|b| b.name() != after.name()) {
            self.folded.insert(id, FoldedName::new(after.name()));
        }
        let old_keys = before.map(live_keys).unwrap_or_default();
        let new_keys = live_keys(&after);
        for key in old_keys.difference(&new_keys) {
            if let Some(ids) = self.index.get_mut(key) {
                ids.retain(|x| *x != id);
            }
        }
        for key in new_keys.difference(&old_keys) {
            self.index.entry(key.clone()).or_default().push(id);
        }
        self.leads.insert(id, after);
        self.pending.entry(id).or_default().push(event);
    }

    /// Rescores every lead this command touched (SPEC §6: every change rescores the lead in
    /// the same command); a changed score is one more `LeadScored` event. Answers the leads
    /// whose score changed.
    pub fn rescore(&mut self, rules: &[Rule], now: i64) -> Vec<Uuid> {
        let ids: Vec<Uuid> = self.touched.iter().map(|t| t.0).collect();
        let mut changed = Vec::new();
        for id in ids {
            let Some(lead) = self.leads.get(&id) else {
                continue;
            };
            if let Some(event) = decide_score(lead, rules, now) {
                let mut after = lead.clone();
                after.apply(&event);
                self.record(after, event);
                changed.push(id);
            }
        }
        changed
    }

    /// A lead's score as this command leaves it.
    pub fn score_of(&self, id: Uuid) -> Option<f64> {
        self.leads.get(&id).map(|l| l.score)
    }

    /// Everything to record: every pending event, the dedup key changes, the due snapshots
    /// and the note index change. Leads touched without an event record nothing.
    pub fn changes(&self, metadata: &EventMetadata) -> Result<Changes, CommandError> {
        let mut out = Changes {
            tenant: self.tenant,
            note: self.note,
            ..Changes::default()
        };
        for (id, version, keys_before) in &self.touched {
            let Some(events) = self.pending.get(id).filter(|e| !e.is_empty()) else {
                continue;
            };
            let events = events
                .iter()
                .map(|e| e.to_new_event(metadata))
                .collect::<Result<Vec<_>, _>>()
                .map_err(CommandError::internal)?;
            out.appends.push(StreamAppend {
                tenant_id: self.tenant,
                stream_type: LeadEvent::STREAM_TYPE,
                stream_id: *id,
                expected: version.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact),
                events,
            });
            let Some(lead) = self.leads.get(id) else {
                continue;
            };
            if lead.version - lead.snapshot_version >= SNAPSHOT_EVERY {
                let state = serde_json::to_value(lead).map_err(CommandError::internal)?;
                out.snapshots.push((lead.id, lead.version, state));
            }
            let Some(keys_before) = keys_before else {
                continue; // keys unchanged
            };
            let keys_after = live_keys(lead);
            out.keys_removed.extend(
                keys_before
                    .difference(&keys_after)
                    .map(|k| (*id, k.clone())),
            );
            out.keys_added
                .extend(keys_after.difference(keys_before).map(|k| (*id, k.clone())));
        }
        Ok(out)
    }
}

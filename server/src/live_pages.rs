//! The server's side of the live pages: reads the health board and the
//! in-memory cluster state (never the API server) and shapes them for pages.

use crate::cluster::engine::{Board, BoardEntry};
use crate::cluster::state::{ClusterState, WorkloadInfo};
use crate::cluster::watch::Live;
use crate::components::Components;
use app::domain::component::{ComponentForm, ComponentKey, ComponentKind};
use app::domain::component_health::NODES_GROUP;
use app::domain::health::{ComponentStatus, assess_node};
use app::domain::label_selector::LabelSelector;
use app::live::{
    CLUSTER_PAGE_ROWS, ClusterLink, ClusterOverview, ComponentRow, ComponentTile, DashboardData, LiveBackend,
    NodeRow, TileGroup, WarningRow, WorkloadRow,
};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Above this many nodes, operational ones are counted rather than listed.
const NODES_LISTED: usize = 50;

pub struct LivePages {
    pub live: Arc<Live>,
    pub board: Arc<RwLock<Board>>,
    pub components: Components,
}

impl LivePages {
    fn link(&self) -> ClusterLink {
        let connection = self.live.connection();
        ClusterLink {
            link: connection.link,
            since: connection.since,
            last_contact: connection.last_contact,
            now: crate::db::now_millis(),
        }
    }
}

fn workload_row(state: &ClusterState, w: &WorkloadInfo) -> WorkloadRow {
    WorkloadRow {
        kind: w.kind.as_str().to_owned(),
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        desired: w.desired,
        ready: w.ready,
        available: w.available,
        restarts: state.restarts_of(w),
        image: w.image.clone(),
    }
}

fn tile_of(entry: BoardEntry) -> ComponentTile {
    let health = entry.health;
    ComponentTile {
        key: health.key,
        name: health.name,
        description: health.description,
        kind: health.kind,
        visibility: health.visibility,
        status: health.assessment.status,
        reasons: health.assessment.reasons,
        since: entry.since,
    }
}

#[async_trait::async_trait]
impl LiveBackend for LivePages {
    fn all_components(&self) -> Vec<(String, ComponentTile)> {
        let board = self.board.read().unwrap_or_else(|e| e.into_inner()).clone();
        board.entries.into_iter().map(|entry| (entry.health.group.clone(), tile_of(entry))).collect()
    }

    fn dashboard(&self) -> DashboardData {
        let board = self.board.read().unwrap_or_else(|e| e.into_inner()).clone();
        // Platform first, then nodes, then service groups by name.
        let mut groups: BTreeMap<(u8, String), Vec<ComponentTile>> = BTreeMap::new();
        for entry in board.entries {
            let health = &entry.health;
            let order = match health.kind {
                ComponentKind::Platform => 0,
                ComponentKind::Node => 1,
                ComponentKind::Service => 2,
            };
            groups.entry((order, health.group.clone())).or_default().push(tile_of(entry));
        }
        let groups = groups
            .into_iter()
            .map(|((_, name), mut tiles)| {
                let mut operational_hidden = 0;
                if name == NODES_GROUP && tiles.len() > NODES_LISTED {
                    let before = tiles.len();
                    tiles.retain(|t| t.status != ComponentStatus::Operational);
                    operational_hidden = before - tiles.len();
                }
                TileGroup { name, tiles, operational_hidden }
            })
            .collect();
        DashboardData { link: self.link(), evaluated: board.evaluated_at.is_some(), groups }
    }

    fn cluster_overview(&self) -> ClusterOverview {
        let link = self.link();
        let state = self.live.read();
        let pods_on = state.pods_on();
        let mut nodes: Vec<NodeRow> = state
            .nodes
            .values()
            .map(|n| {
                let assessment = assess_node(&n.observation());
                let mut conditions = Vec::new();
                match n.ready {
                    Some(true) => {}
                    Some(false) => conditions.push("NotReady".to_owned()),
                    None => conditions.push("NotReady (unknown)".to_owned()),
                }
                for (on, name) in [
                    (n.memory_pressure, "MemoryPressure"),
                    (n.disk_pressure, "DiskPressure"),
                    (n.pid_pressure, "PIDPressure"),
                ] {
                    if on {
                        conditions.push(name.to_owned());
                    }
                }
                NodeRow {
                    name: n.name.clone(),
                    status: assessment.status,
                    conditions,
                    cordoned: n.unschedulable,
                    pods: pods_on.get(n.name.as_str()).copied().unwrap_or(0),
                    cpu: n.cpu.clone(),
                    memory: n.memory.clone(),
                    max_pods: n.max_pods.clone(),
                }
            })
            .collect();
        let node_total = nodes.len();
        nodes.sort_by(|a, b| b.status.cmp(&a.status).then_with(|| a.name.cmp(&b.name)));
        nodes.truncate(CLUSTER_PAGE_ROWS);
        let mut short: Vec<&WorkloadInfo> = state.workloads.values().collect();
        let workload_total = short.len();
        short.sort_by_key(|w| (w.available >= w.desired, w.namespace.clone(), w.name.clone()));
        short.truncate(CLUSTER_PAGE_ROWS);
        let workloads = short.into_iter().map(|w| workload_row(&state, w)).collect();
        let warnings = state
            .warnings
            .iter()
            .rev()
            .take(50)
            .map(|e| WarningRow {
                namespace: e.namespace.clone(),
                object: e.object.clone(),
                reason: e.reason.clone(),
                message: e.message.clone(),
                count: e.count,
                last_seen: e.last_seen,
            })
            .collect();
        ClusterOverview {
            link,
            nodes,
            node_total,
            workloads,
            workload_total,
            warnings,
            checks: state.checks.clone(),
        }
    }

    fn preview(&self, namespace: &str, selector: &LabelSelector) -> Vec<WorkloadRow> {
        let state = self.live.read();
        state.matching(namespace, selector).into_iter().map(|w| workload_row(&state, w)).collect()
    }

    async fn service_components(&self) -> Result<Vec<ComponentRow>, String> {
        let list = self.components.list().await.map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "cannot list the components");
            "The components cannot be read right now. Try again shortly.".to_owned()
        })?;
        let statuses: BTreeMap<ComponentKey, ComponentStatus> = self
            .board
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .iter()
            .map(|e| (e.health.key.clone(), e.health.assessment.status))
            .collect();
        Ok(list
            .into_iter()
            .map(|c| ComponentRow {
                id: c.id,
                status: statuses.get(&c.key()).copied(),
                form: ComponentForm::from(&c.definition),
            })
            .collect())
    }
}

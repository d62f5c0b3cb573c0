//! The cluster scenario: two fixture nodes joined by a Redis Streams adapter through one
//! redis-server, every client on the receiving node (`--port`, `--pid`, `--local-control`).
//!
//! 1. warm-up: the sending node (`--control`) broadcasts seq 0 and every client must get it, so
//!    both nodes read the stream before anything is measured;
//! 2. cross-node phase (measured): the sending node broadcasts seq 1..=N, every delivery crosses
//!    Redis;
//! 3. local phase (measured): the receiving node broadcasts seq N+1..=2N itself, the same node's
//!    cost of a local broadcast with the adapter in place.
//!
//! Each phase reports the receiving node's CPU (as the other scenarios, all threads, from /proc),
//! the other node's (`--peer-pid`: the sender in the cross-node phase, a reader without clients in
//! the local one) and redis-server's (`--redis-pid`), and the Redis commands served meanwhile
//! (`INFO commandstats` on `--redis-port`, before and after).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{
    connect, control, cpu_delta, make_pad, merge, pad_len_for, read_cpu, receive_seq, tail, Args, Ctx, Endpoint,
    Measure, Res,
};

/// Where the cluster scenario finds the other processes.
struct Peers {
    peer_pid: u32,
    local_control: u16,
    redis_port: u16,
    redis_pid: u32,
}

fn peers(a: &Args) -> Res<Peers> {
    let need = |v: Option<u32>, k: &str| v.ok_or_else(|| format!("the cluster scenario needs --{k}"));
    Ok(Peers {
        peer_pid: need(a.peer_pid, "peer-pid")?,
        local_control: need(a.local_control.map(u32::from), "local-control")? as u16,
        redis_port: need(a.redis_port.map(u32::from), "redis-port")? as u16,
        redis_pid: need(a.redis_pid, "redis-pid")?,
    })
}

/// `INFO commandstats` of the redis-server on `port`: calls per command (lower case, subcommands
/// as `config|get`).
async fn command_calls(port: u16) -> Res<BTreeMap<String, u64>> {
    let text = tokio::time::timeout(Duration::from_secs(5), info_commandstats(port))
        .await
        .map_err(|_| "redis INFO commandstats: no answer within 5 s".to_string())??;
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        // cmdstat_xadd:calls=1000,usec=5000,usec_per_call=5.00,rejected_calls=0,failed_calls=0
        let Some((name, stats)) = line.strip_prefix("cmdstat_").and_then(|l| l.split_once(':')) else { continue };
        let n = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("redis INFO commandstats: bad line {line:?}"))?;
        calls.insert(name.to_string(), n);
    }
    Ok(calls)
}

async fn info_commandstats(port: u16) -> Res<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| format!("redis connect: {e}"))?;
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n").await.map_err(|e| format!("redis: {e}"))?;
    // one bulk string: $<len>\r\n<len bytes>\r\n
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).await.map_err(|e| format!("redis: {e}"))?;
        if n == 0 {
            return Err(format!("redis closed the connection after {:?}", String::from_utf8_lossy(&buf)));
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(head) = buf.windows(2).position(|w| w == b"\r\n") else { continue };
        let len: usize = std::str::from_utf8(&buf[..head])
            .ok()
            .and_then(|h| h.strip_prefix('$'))
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| format!("redis: unexpected reply {:?}", String::from_utf8_lossy(&buf)))?;
        if buf.len() >= head + 2 + len {
            return Ok(String::from_utf8_lossy(&buf[head + 2..head + 2 + len]).into_owned());
        }
    }
}

/// Calls made between two snapshots, the snapshots' own INFO calls left out.
fn calls_between(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter(|(name, _)| name.as_str() != "info")
        .map(|(name, n)| (name.clone(), n.saturating_sub(*before.get(name).unwrap_or(&0))))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// One measured phase: the receiving node's CPU (`Measure`), the other processes' CPU and the
/// Redis commands, from `start` to `stop`.
struct Phase {
    measure: Measure,
    peer: crate::CpuSample,
    redis: crate::CpuSample,
    calls: BTreeMap<String, u64>,
    redis_port: u16,
    peer_pid: u32,
    redis_pid: u32,
}

impl Phase {
    async fn start(a: &Args, p: &Peers) -> Res<Self> {
        let calls = command_calls(p.redis_port).await?;
        Ok(Phase {
            peer: read_cpu(p.peer_pid)?,
            redis: read_cpu(p.redis_pid)?,
            measure: Measure::start(a.pid)?,
            calls,
            redis_port: p.redis_port,
            peer_pid: p.peer_pid,
            redis_pid: p.redis_pid,
        })
    }

    /// The phase's figures for `broadcasts` broadcasts to `clients` clients, keys prefixed with
    /// `prefix`.
    async fn stop(self, t_end: Instant, broadcasts: u64, clients: u64, prefix: &str) -> Res<(f64, Value)> {
        let (cpu, wall, details) = self.measure.stop(t_end)?;
        let (peer_cpu, _) = cpu_delta(&self.peer, &read_cpu(self.peer_pid)?);
        let (redis_cpu, _) = cpu_delta(&self.redis, &read_cpu(self.redis_pid)?);
        let calls = calls_between(&self.calls, &command_calls(self.redis_port).await?);
        let total: u64 = calls.values().sum();
        let deliveries = broadcasts * clients;
        let per_broadcast: BTreeMap<&String, f64> = calls.iter().map(|(k, n)| (k, *n as f64 / broadcasts as f64)).collect();
        let figures = json!({
            "deliveries": deliveries,
            "cpu_s_per_million": cpu / deliveries as f64 * 1e6,
            "deliveries_per_s": deliveries as f64 / wall,
            "peer_cpu_s": peer_cpu,
            "peer_cpu_s_per_k_broadcasts": peer_cpu / broadcasts as f64 * 1e3,
            "redis_cpu_s": redis_cpu,
            "redis_cpu_s_per_k_broadcasts": redis_cpu / broadcasts as f64 * 1e3,
            "redis_calls": calls,
            "redis_calls_per_broadcast": total as f64 / broadcasts as f64,
            "redis_calls_per_broadcast_by_command": per_broadcast,
        });
        // the peer and redis-server share the load generator's core: not "other" load
        let other = (details["other_cpu_s"].as_f64().unwrap_or(0.0) - peer_cpu - redis_cpu).max(0.0);
        let others = json!({ "other_cpu_s": other, "other_util": other / wall });
        let all = merge(merge(details, figures), others);
        let prefixed: serde_json::Map<String, Value> =
            all.as_object().into_iter().flatten().map(|(k, v)| (format!("{prefix}{k}"), v.clone())).collect();
        Ok((cpu, Value::Object(prefixed)))
    }
}

pub(crate) async fn cluster_scenario(a: Args) -> Res<Value> {
    const LOCAL: u32 = 1;
    let p = peers(&a)?;
    let plen = pad_len_for(a.size);
    let n = a.emits as u64;
    let ctx = Ctx::new(a.clone());
    let to = Endpoint { port: a.port, transport: a.transport };
    ctx.spawn(move |_i, sh, mut phase| async move {
        let pad = make_pad(plen, 0);
        let (mut conn, _) = connect(&sh, to, "").await?;
        sh.bump(&sh.ready);
        receive_seq(&mut conn, &pad, 0, 1, false, false).await?;
        sh.bump(&sh.warm);
        receive_seq(&mut conn, &pad, 1, n, false, false).await?;
        sh.bump(&sh.done);
        // nothing more until the receiving node broadcasts
        tail(&mut conn, &mut phase, LOCAL).await?;
        receive_seq(&mut conn, &pad, 1 + n, n, false, false).await?;
        sh.bump(&sh.done2);
        tail(&mut conn, &mut phase, u32::MAX).await
    });
    ctx.sh.wait_all(&ctx.sh.ready, "connections", ctx.timeout).await?;
    tokio::time::sleep(Duration::from_millis(200)).await; // let the nodes settle after the handshakes
    control(a.control, &format!("/broadcast?n=1&pad={plen}&seq0=0&rooms=0&batch=1&mode=paced")).await?;
    ctx.sh.wait_all(&ctx.sh.warm, "the warm-up broadcast from the other node", ctx.timeout).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let broadcast = |seq0: u64| format!("/broadcast?n={n}&pad={plen}&seq0={seq0}&rooms=0&batch={}&mode=paced", a.batch);
    let clients = a.clients as u64;

    let phase = Phase::start(&a, &p).await?;
    let path = broadcast(1);
    let ctl = tokio::spawn(async move { control(a.control, &path).await });
    let t_end = ctx.sh.wait_all(&ctx.sh.done, "all cross-node deliveries", ctx.timeout).await?;
    let (cross_cpu, cross) = phase.stop(t_end, n, clients, "").await?;
    let cross_ctl = ctl.await.map_err(|e| e.to_string())??;

    tokio::time::sleep(Duration::from_millis(100)).await;
    ctx.phase.send_replace(LOCAL);
    let phase = Phase::start(&a, &p).await?;
    let path = broadcast(1 + n);
    let local_control = p.local_control;
    let ctl = tokio::spawn(async move { control(local_control, &path).await });
    let t_end = ctx.sh.wait_all(&ctx.sh.done2, "all local deliveries", ctx.timeout).await?;
    let (local_cpu, local) = phase.stop(t_end, n, clients, "local_").await?;
    ctl.await.map_err(|e| e.to_string())??;
    ctx.grace().await?;
    Ok(merge(
        merge(cross, local),
        json!({
            "scenario": "cluster",
            "clients": a.clients,
            "emits": a.emits,
            "frame_bytes": a.size,
            "emit_loop_ms": cross_ctl["ms"],
            "cross_over_local": cross_cpu / local_cpu.max(1e-9),
        }),
    ))
}

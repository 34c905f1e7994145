/**
 * The local cluster's /metrics endpoints as a Prometheus file_sd target list, with the job labels
 * deploy/prometheus/rules.yml and the Grafana dashboard expect (crl-coordinator, crl-trainer,
 * crl-evaluator; trainers also carry their id).
 */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** `metricsUrls` as LocalCluster.metricsUrls gives them: "coordinator", "trainer t1", ... */
export function prometheusTargets(metricsUrls: Record<string, string>): TargetGroup[] {
  return Object.entries(metricsUrls).map(([name, url]) => {
    const [service = name, id] = name.split(' ');
    // Every service serves Prometheus' default path, so host:port is the whole target.
    return {
      targets: [new URL(url).host],
      labels: { job: `crl-${service}`, ...(id === undefined ? {} : { [service]: id }) },
    };
  });
}

// Command rovd-bench generates RPKI test worlds for rovd, serves them on
// loopback and runs benchmarks against rovd and its peers. The rovd
// binary never links it.
//
//	rovd-bench world --preset small -o DIR      generate a world (see bench/world)
//	rovd-bench world --mutate 1 -o DIR          change 1% of its publication points
//	rovd-bench serve DIR                        serve it over RRDP and rsync (see bench/world/serve)
//	rovd-bench fetch DIR                        fetch it into an empty store: wall, CPU, peak RSS
//	rovd-bench run --preset small -o DIR        benchmark rovd, rpki-client and FORT (see bench/harness):
//	                                            fetch and validate stages, report.md, report.json, plots;
//	                                            the world is served on loopback while it runs
//	rovd-bench run --scale 1/4,1/2,1 -o DIR     the validate stage also on smaller worlds, with scaling plots
//
// Options are GNU style (spf13/pflag). Exit codes: 0 success, 1 failure,
// 2 usage error.
package main

// Command rovd is an RPKI relying party: it fetches and validates the
// RPKI and serves the result to routers and operators. All the work is in
// package appliance/cli; main only hands over the arguments and exits
// with the status it gets back.
package main

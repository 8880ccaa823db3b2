# fish completion for sockpair(1).

set -l commands pair fork-echo listen connect talkback http-head bench proxy peers help

complete -c sockpair -f
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a pair -d 'Create a socket pair and var_dump() a message'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a fork-echo -d 'Talk to a forked child over a socket pair'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a listen -d 'Listen and relay a client, like nc -l'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a connect -d 'Connect and relay, like nc or telnet'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a talkback -d 'The manual\'s TCP server, for many clients'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a http-head -d 'HEAD request, response head, like curl -I'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a bench -d 'Measure IPC latency and throughput, every mechanism'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a proxy -d 'Relay clients to a server, to see their conversation'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a peers -d 'Show who is at each end of a socket'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -a help -d 'Show the commands, or the options of one'
complete -c sockpair -n "__fish_seen_subcommand_from help" -a "$commands"

# Global options, before or after the command.
complete -c sockpair -l trace -d 'Show each socket call and its result'
complete -c sockpair -s x -l hexdump -d 'Show every chunk that crosses a socket'
complete -c sockpair -l stats -d 'A summary of each connection as it ends'
complete -c sockpair -l json -d 'Every diagnostic as one JSON object per line'
complete -c sockpair -l pcap -r -F -d 'Write what crosses the sockets as pcapng'
complete -c sockpair -s q -l quiet -d 'No progress, announcements or events'
complete -c sockpair -s h -l help -d 'Show the usage or the options'
complete -c sockpair -n "not __fish_seen_subcommand_from $commands" -s V -l version -d 'Print the version'

# pair
complete -c sockpair -n "__fish_seen_subcommand_from pair" -s d -l domain -x -a 'unix inet inet6' -d 'Socket domain'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -s t -l type -x -a 'stream dgram seqpacket raw rdm' -d 'Socket type'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -s P -l protocol -x -a '0 tcp udp' -d 'Protocol number or name'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -s m -l message -x -d 'Message (\n \r \t \\\\ \0 \xHH)'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -l raw -d 'Print the bytes alone'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -l info -d 'Describe each end of the pair'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -l emulate -d 'Build inet pairs over loopback'
complete -c sockpair -n "__fish_seen_subcommand_from pair" -l size -x -d 'Stream N verified bytes (K, M, G)'

# fork-echo
complete -c sockpair -n "__fish_seen_subcommand_from fork-echo" -l style -x -a 'socket stream' -d 'Which manual example'
complete -c sockpair -n "__fish_seen_subcommand_from fork-echo" -s t -l type -x -a 'stream dgram seqpacket' -d 'Socket type'
complete -c sockpair -n "__fish_seen_subcommand_from fork-echo" -s i -l interactive -d 'Echo input lines through the child'
complete -c sockpair -n "__fish_seen_subcommand_from fork-echo" -l pass-fd -r -F -d 'Pass an open file to the child'

# listen
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s p -l port -x -d 'Port, 0 for a free one'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s a -l address -x -a '(__fish_print_hostnames)' -d 'Address to bind'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s U -l unix -r -F -d 'UNIX socket path or @name'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s u -l udp -d 'Datagrams'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s b -l backlog -x -d 'listen() backlog'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s k -l keep-open -d 'Accept the next client when one leaves'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s 4 -l ipv4 -d 'IPv4 only'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -s 6 -l ipv6 -d 'IPv6 only'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -l recv-fd -d 'Announce the descriptors a client passes'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -l attach -d 'Relay the first descriptor passed instead of the client'
complete -c sockpair -n "__fish_seen_subcommand_from listen" -l creds -d 'Show who sent each message'

# connect
complete -c sockpair -n "__fish_seen_subcommand_from connect" -a '(__fish_print_hostnames)' -d 'Host'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s U -l unix -r -F -d 'UNIX socket path or @name'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s u -l udp -d 'Datagrams, a line each'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s z -l zero-io -d 'Only tell whether each port answers'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s 4 -l ipv4 -d 'IPv4 addresses only'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s 6 -l ipv6 -d 'IPv6 addresses only'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s w -l timeout -x -d 'Connect and idle timeout, seconds'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l crlf -d 'Send line ends as \\r\\n'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l send-fd -x -d 'Pass an inherited descriptor with the first data'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -s F -l pass-fd-out -d 'Pass the connected socket over stdout, then exit'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l tls -d 'Speak TLS over the connection'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l cafile -r -F -d 'TLS: verify with the CAs in FILE'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l sni -x -a '(__fish_print_hostnames)' -d 'TLS: the server name sent and checked'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l alpn -x -a 'h2 http/1.1 h2,http/1.1' -d 'TLS: the protocols offered'
complete -c sockpair -n "__fish_seen_subcommand_from connect" -l insecure -d 'TLS: do not verify the certificate'

# talkback
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -s p -l port -x -d 'Port, default 10000'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -s a -l address -x -a '(__fish_print_hostnames)' -d 'Address to bind'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -s b -l backlog -x -d 'listen() backlog'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -s 4 -l ipv4 -d 'IPv4 only'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -s 6 -l ipv6 -d 'IPv6 only'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -l max-clients -x -d 'Clients served at once'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -l max-line -x -d 'Longest read without a line end'
complete -c sockpair -n "__fish_seen_subcommand_from talkback" -l idle-timeout -x -d 'Close a client silent this long'

# http-head
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -a '(__fish_print_hostnames)' -d 'Host'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -s p -l port -x -d 'Port'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -l path -x -d 'Path to ask for'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -s 4 -l ipv4 -d 'IPv4 addresses only'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -s 6 -l ipv6 -d 'IPv6 addresses only'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -s w -l timeout -x -d 'Connect and response timeout, seconds'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -l timing -d 'Print the time of each step'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -s n -l count -x -d 'Requests to make, one after the other'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -s i -l interval -x -d 'Seconds between requests'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -l cafile -r -F -d 'TLS: verify with the CAs in FILE'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -l sni -x -a '(__fish_print_hostnames)' -d 'TLS: the server name sent and checked'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -l alpn -x -a 'h2 http/1.1 h2,http/1.1' -d 'TLS: the protocols offered'
complete -c sockpair -n "__fish_seen_subcommand_from http-head" -l insecure -d 'TLS: do not verify the certificate'

# bench
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l via -x -a 'pipe socketpair socketpair-dgram socketpair-seqpacket unix unix-dgram tcp tcp6 udp udp6' -d 'Mechanisms, comma-separated'
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l mode -x -a 'latency throughput both' -d 'Latency, throughput or both'
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l size -x -d 'Message sizes, comma-separated'
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l count -x -d 'Round trips per latency row'
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l time -x -d 'Seconds per throughput row'
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l cpus -x -a 'same split any' -d 'Both on one CPU, on two, or anywhere'
complete -c sockpair -n "__fish_seen_subcommand_from bench" -l buffer -x -d 'Socket buffers and pipe sizes, bytes'

# proxy
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l swap -r -F -d 'Stand in a live UNIX socket\'s place'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l once -d 'Serve one client, then exit'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l max-clients -x -d 'Connections at once'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l delay -x -a 'up: down:' -d 'Forward each chunk MS ms (~JITTER) after it came'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l rate -x -a 'up: down:' -d 'At most BYTES a second per connection'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l slice -x -a 'up: down:' -d 'Forward in pieces of N bytes, MS ms apart'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l close-after -x -a 'up: down:' -d 'Forward N bytes, then close both sides'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l reset-after -x -a 'up: down:' -d 'Forward N bytes, then reset both sides'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l blackhole -d 'Forward nothing; close both sides after =MS'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -l faulty -x -d 'The share of connections the faults touch'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -s w -l timeout -x -d 'Give up connecting to TARGET after SECS'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -s b -l backlog -x -d 'listen() backlog'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -s 4 -l ipv4 -d 'IPv4 only'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -s 6 -l ipv6 -d 'IPv6 only'
complete -c sockpair -n "__fish_seen_subcommand_from proxy" -F -d 'LISTEN or TARGET: a port, HOST:PORT or a path'

# peers
complete -c sockpair -n "__fish_seen_subcommand_from peers" -l pid -x -a '(__fish_complete_pids)' -d 'Every socket of a process, and who holds each peer'
complete -c sockpair -n "__fish_seen_subcommand_from peers" -F -d 'TARGET: a path, @NAME, a port or HOST:PORT'

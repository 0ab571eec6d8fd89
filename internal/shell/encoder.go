package shell

// The output driver: a perl program that runs the command and carries its
// output through the daemon's line labelling undamaged (see Spec.Script).
// It is run as
//
//	perl -e <driver> <marker in hex> <merge: 0 or 1> <script> <command line>
//
// and forks `bash -c <script> bash <command line>` with its stdout and
// stderr on two pipes (one, when merging), so that the command starts only
// once perl is running and no output waits for it. It reads whatever a
// pipe holds (at most 1 KiB: a record is then at most 3 KiB, below the 4 KiB
// that a pipe writes atomically) and writes at once one record on its own
// stdout:
//
//	<tag><payload>\n
//
// where tag is "o" (stdout) or "e" (stderr) and the payload is the bytes
// read, with NUL, 01, 02 (the daemon's label bytes), newline, "%" and every
// byte that is not part of a valid UTF-8 sequence written as %XX. A record
// is thus one line of valid UTF-8 without label bytes: bash's read keeps it
// whole, the daemon's JSON answers carry it exactly, and its sync answer
// does not split it; and only the daemon's stdout labeller writes, so
// nothing interleaves. ASCII text costs one pass of tr and one
// substitution; a chunk with bytes above 127 is checked as UTF-8 as a
// whole, and only an invalid chunk (binary data, or a character cut by the
// 1 KiB read) is escaped byte by byte.
//
// When the command exits (perl learns it from SIGCHLD, through a pipe to
// itself), perl reads what its pipes still hold, then writes the marker and
// the exit status (128 + the signal for a command killed by one) as a
// record on each stream, and exits with that status. Jobs the command left
// in the background keep the pipes open; perl forwards their output until
// they close them, as the daemon does.
//
// A read or write that SIGCHLD interrupts (EINTR, 4 on Linux) is tried
// again. It needs only perl's builtins (perl-base on Debian and Ubuntu
// images); the program contains no single quote.
const encoder = `my($t,$m,$s,$c)=@ARGV;$t=pack("H*",$t);` +
	`pipe(my $OR,my $OW)or die"pipe: $!";pipe(my $ER,my $EW)or die"pipe: $!";pipe(my $SR,my $SW)or die"pipe: $!";` +
	`$SIG{CHLD}=sub{syswrite($SW,"x")};` +
	`my $p=fork;defined $p or die"fork: $!";` +
	`if(!$p){close $OR;close $ER;close $SR;close $SW;open(STDOUT,">&",$OW);open(STDERR,">&",$m?$OW:$EW);close $OW;close $EW;$SIG{CHLD}="DEFAULT";exec("bash","-c",$s,"bash",$c);exit 127}` +
	`close $OW;close $EW;binmode STDOUT;` +
	`my %e=map{(chr($_),sprintf("%%%02X",$_))}0..255;` +
	`sub wr{my $r=shift;while(length $r){my $n=syswrite(STDOUT,$r);if(defined $n){substr($r,0,$n)=""}elsif($!!=4){exit 141}}}` +
	`sub enc{my($g,$b)=@_;my $c;if($b=~tr/\x80-\xFF//and!(utf8::decode($c=$b)and$c!~/[\x{D800}-\x{DFFF}]/)){$b=~s{([\x00-\x7F]+)|((?:[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})+)|(.)}{defined $1?($1=~s/([\x00-\x02\n%])/$e{$1}/gr):defined $2?$2:$e{$3}}gse}else{$b=~s/([\x00-\x02\n%])/$e{$1}/g}wr("$g$b\n")}` +
	`my %f=(o=>$OR,e=>$ER);my $x;` +
	`sub rd{my($to)=@_;my $r="";vec($r,fileno($_),1)=1 for values %f;vec($r,fileno($SR),1)=1 if!defined $x;my $n=select(my $o=$r,undef,undef,$to);return 0 if$n<=0;my $k=0;` +
	`if(vec($o,fileno($SR),1)){sysread($SR,my $d,64)}` +
	`for my $g(sort keys %f){next if!vec($o,fileno($f{$g}),1);my $b;my $l=sysread($f{$g},$b,1024);if($l){enc($g,$b);$k++}elsif(defined $l||$!!=4){delete $f{$g}}else{$k++}}return $k}` +
	`sub fin{$x=$?&127?128+($?&127):$?>>8;1 while %f&&rd(0);enc("o","$t$x\n");enc("e","$t$x\n")}` +
	`sub reap{fin()if!defined $x&&waitpid($p,1)==$p}` +
	`while(%f){rd(undef);reap()}` +
	`if(!defined $x){waitpid($p,0);fin()}` +
	`exit $x`

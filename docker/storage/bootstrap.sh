#!/usr/bin/env bash
# Prepare a zone's storage server to receive recordings: the old README's manual list, done
# idempotently. Run it as root on the storage server; run it again at any time: it changes
# only what is not yet as it should be, and says what it changed.
#
#   bootstrap.sh --user USER --line-file FILE        (or --line-file - to read stdin)
#   bootstrap.sh --user USER --line 'restrict,command="umask 027; exec /usr/bin/env -i /usr/bin/rsync --server --daemon ..." ssh-ed25519 AAAA... opvideo-kursk'
#
# The line is the zone's authorized_keys line from the admin page (or from
# `manage.py zone_authorized_key --zone <zone>`). PATH_DST and the rsync module
# configuration are read from it, so what is made here is exactly what the key is confined to.
#
# What it does (the old manual steps, numbered as there):
#   0. rsync (3.2 or later) installed                      apt-get install rsync
#      the upload module: its configuration (the line's --config, root's, 644) and its
#      pre-transfer check beside it (<config without .conf>-check, root's, 755)
#   1. the user (key login only: no password, not locked)  useradd
#   2. ~/.ssh, owned by the user, mode 700                 mkdir, chown, chmod
#   3. (the key pair is made in the admin, not here: the server never sees the private key)
#   4./5. the key line in the file sshd reads (AuthorizedKeysFile, from `sshd -T`),
#      replacing an older line of the same zone or key, owned by the user, mode 600
#   6./7. owners and modes of the above
#   8./9. PATH_DST, owned by the user and its group, mode 750: writable by the user only,
#      readable by its group (nginx and the retention worker read with it), nobody else.
#      Anything inside owned by someone else is given to the user (the retention worker,
#      running as the user, deletes what expired); a directory or file with a mode the
#      upload module would never give (writable by others, setuid, setgid, sticky,
#      executable, or unreadable by the group) is given the module's mode (750 or 640);
#      symbolic links, devices and FIFOs found inside are reported, not touched.
#   and checks that a nginx outside Docker, its workers running as --nginx-user with the
#   group, can reach PATH_DST (render_nginx_conf --group GROUP gives it that group).
#
# Options:
#   --group GROUP                 group of the user and PATH_DST (default: the user's own)
#   --path-dst DIR                refuse to run unless the line's PATH_DST is DIR
#   --authorized-keys-file PATH   where sshd reads keys (default: asked from sshd -T)
#   --nginx-user USER             the user nginx's workers run as (default www-data, if any)
#   --module-only                 write only the upload module's configuration and check
#                                 (no user, key or PATH_DST): for a test sshd
#   --dry-run                     say what would change, change nothing
set -euo pipefail
umask 022

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "bootstrap: $*" >&2; exit 2; }
note() { echo "bootstrap: $*"; }
warn() { echo "bootstrap: warning: $*" >&2; }

user="" group="" line="" line_file="" want_dst="" keys_file="" dry_run=0 module_only=0
nginx_user=""
while [ $# -gt 0 ]; do
  case "$1" in
    --user) user=${2:?--user needs a value}; shift 2 ;;
    --group) group=${2:?--group needs a value}; shift 2 ;;
    --line) line=${2:?--line needs a value}; shift 2 ;;
    --line-file) line_file=${2:?--line-file needs a value}; shift 2 ;;
    --path-dst) want_dst=${2:?--path-dst needs a value}; shift 2 ;;
    --authorized-keys-file) keys_file=${2:?--authorized-keys-file needs a value}; shift 2 ;;
    --nginx-user) nginx_user=${2:?--nginx-user needs a value}; shift 2 ;;
    --module-only) module_only=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

# --- check everything before changing anything ---------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run me as root (I create a user and set owners)"
if [ "$module_only" = 0 ]; then
  [ -n "$user" ] || die "--user is required: the zone's ssh user (CONFIG.USER)"
  [[ "$user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--user $user is not a POSIX user name"
  [ "$user" != root ] || die "the zone's user must not be root"
fi
if [ -n "$nginx_user" ]; then
  [[ "$nginx_user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--nginx-user $nginx_user is not a POSIX user name"
  getent passwd "$nginx_user" >/dev/null || die "--nginx-user $nginx_user: no such user"
fi
if [ -n "$group" ]; then
  [[ "$group" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--group $group is not a POSIX group name"
fi
if [ -n "$line_file" ]; then
  [ -z "$line" ] || die "give --line or --line-file, not both"
  if [ "$line_file" = - ]; then line=$(cat); else
    [ -r "$line_file" ] || die "cannot read $line_file"
    line=$(cat -- "$line_file")
  fi
fi
[ -n "$line" ] || die "--line or --line-file is required: the zone's authorized_keys line"
# Trailing newline or CR from a copy/paste is not part of the line; anything else is refused.
line=${line%$'\n'}; line=${line%$'\r'}
case "$line" in *$'\n'*|*$'\r'*) die "the authorized_keys line must be one line" ;; esac

# Only a line as OPVideo makes it: the key confined to the upload module, rooted at PATH_DST.
# Anything else (a bare key, another forced command, the old rrsync line) would give the
# workstations' shared key more than it may have, so it is refused rather than installed.
safe_path='/[A-Za-z0-9._@+/-]*'
line_re="^restrict,command=\"umask 027; exec /usr/bin/env -i ((/[A-Za-z0-9._@+-]+)*/rsync) --server --daemon --config=((/[A-Za-z0-9._@+-]+)+\\.conf) --dparam=path=(${safe_path}) \\.\" (ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) ([A-Za-z0-9+/]+={0,2}) opvideo-([a-z0-9]+([-_][a-z0-9]+)*)$"
if ! [[ "$line" =~ $line_re ]]; then
  case "$line" in
    *rrsync*) die "this is the old rrsync line: print the zone's current line (manage.py zone_authorized_key --zone <zone>, or the zone's admin page) and run me with it" ;;
  esac
  die "this is not a zone's authorized_keys line from OPVideo (restrict,command=\"umask 027; exec /usr/bin/env -i /usr/bin/rsync --server --daemon ...\" <key> opvideo-<zone>): refusing to install it"
fi
rsync=${BASH_REMATCH[1]}
module_conf=${BASH_REMATCH[3]}
path_dst=${BASH_REMATCH[5]}
key_blob=${BASH_REMATCH[7]}
zone=${BASH_REMATCH[8]}
module_dir=$(dirname "$module_conf")
module_check=${module_conf%.conf}-check
case "/$module_conf/" in */../*|*/./*) die "the module configuration $module_conf has . or .. in it" ;; esac
[ "$path_dst" != / ] || die "PATH_DST / would give the key the whole file system"
path_dst=${path_dst%/}
case "/$path_dst/" in */../*|*/./*) die "PATH_DST $path_dst has . or .. in it" ;; esac
if [ -n "$want_dst" ] && [ "${want_dst%/}" != "$path_dst" ]; then
  die "the line confines the key to $path_dst, not to $want_dst (--path-dst)"
fi

changes=0
# change DESCRIPTION COMMAND...: run (or, with --dry-run, only announce) one change.
change() {
  local what=$1; shift
  changes=$((changes + 1))
  if [ "$dry_run" = 1 ]; then echo "would change: $what"; return 0; fi
  "$@"
  echo "changed: $what"
}
owner_of() { stat -c '%U:%G' "$1"; }
mode_of() { stat -c '%a' "$1"; }

# --- 0. rsync --------------------------------------------------------------------------------
# 3.2.0 brought what the module needs: "!" exceptions in refuse options.
rsync_ok() {
  [ -x "$rsync" ] || return 1
  local version
  version=$("$rsync" --version 2>/dev/null | awk 'NR == 1 { print $3 }')
  [ -n "$version" ] || return 1
  printf '%s\n3.2.0\n' "$version" | sort -C -V -r
}
if ! rsync_ok; then
  if [ "$rsync" = /usr/bin/rsync ] && command -v apt-get >/dev/null; then
    install_rsync() {
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsync >/dev/null
    }
    change "installed rsync" install_rsync
    [ "$dry_run" = 1 ] || rsync_ok || die "rsync is installed but $rsync is still missing or older than 3.2.0"
  else
    die "$rsync (named in the line) is missing or older than 3.2.0: install rsync, or have the admin give the zone's line for this host's rsync path (zone_authorized_key --rsync-path)"
  fi
fi
[ -x /usr/bin/env ] || die "/usr/bin/env (coreutils) is missing: the line runs rsync through it"
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || warn "no sshd here: install openssh-server, the workstations connect over ssh"

# --- 0. the upload module --------------------------------------------------------------------
# What the zone's key may do is decided here, not by the key's line: every zone on this host
# whose line names this file shares it. Root's files, so the storage user cannot loosen them.
module_conf_text() {
  cat <<EOF
# OPVideo: the upload module of the zones' workstation keys. Written by bootstrap.sh, which
# puts it back as it was if it is changed. Each zone's authorized_keys line runs
#   rsync --server --daemon --config=$module_conf --dparam=path=<PATH_DST> .
# so the module's path is the zone's PATH_DST; everything else is here.

# The daemon runs as the storage user (sshd's login), which cannot chroot: say so, instead
# of trying on every connection. The paths are confined without it (rsync sanitises them
# and refuses to follow a symbolic link it did not make).
use chroot = no
# Never map owners or groups by name: nothing a client sends may choose an owner (and
# --owner/--group are refused below anyway).
numeric ids = yes
# A symbolic link cannot arrive (--links is refused below); should one ever get through, it
# is stored with rsync's unusable "/rsyncd-munged/" prefix and points nowhere.
munge symlinks = yes
# Above rsync's highest verbosity level (5), which lifts the daemon's cap on --info: the
# client verifies with --info=skip2 ("exists (uptodate)"); --debug stays refused.
max verbosity = 6

[opvideo]
    # Not listed to a client that asks what modules there are.
    list = no
    # Uploads only: nothing can be read back, not even one's own recordings.
    read only = no
    write only = yes
    # The mode of everything received, whatever the client's files had: directories 750,
    # files 640, so the storage user writes, its group (the retention worker, nginx) reads,
    # nobody else does; nothing setuid, setgid, sticky or executable. With --perms refused
    # this is also the mode an existing directory named in a transfer is given: never
    # another workstation's choice.
    incoming chmod = D0750,F0640
    # The tree's shape: one directory under PATH_DST (a workstation's) and plain files in
    # it. No deeper directories, no files beside the workstations' directories, nothing
    # hidden at the top: .previews (the recordings' previews, made by the zone worker) and
    # whatever else is hidden there is the storage server's own.
    filter = - /.* - /*/*/ + /* + /*/* - *
    # Every option is refused but those the workstation client sends. Refused among others:
    # --perms, --chmod, --executability, --owner, --group, --links, --copy-unsafe-links,
    # --devices, --specials, --hard-links, --acls, --xattrs, --super, --fake-super, every
    # --delete, --remove-source-files, --inplace, --append, --partial, --partial-dir,
    # --temp-dir, --backup, --link-dest and its kin, --recursive, --debug, --files-from on
    # this side. rsync itself keeps accepting --server, --dry-run, --out-format, --from0,
    # --checksum-seed and -e (protocol flags), which are no matter here.
    refuse options = * !times !omit-dir-times !relative !checksum !ignore-existing !timeout !bwlimit !modify-window !info
    # What refuse options cannot say: a request must ask for --ignore-existing (a stored
    # recording is never replaced) and --omit-dir-times (no directory's time is changed),
    # and write into one directory, "<name>/". Runs before anything is transferred; its
    # refusal reaches the client.
    pre-xfer exec = $module_check
EOF
}
# The check rsync runs before each transfer. Only the shell's own commands: rsync runs it
# with an empty environment (the line's env -i), no PATH.
module_check_text() {
  cat <<'EOF'
#!/bin/sh
# OPVideo: the upload module's pre-xfer exec (see rsyncd-upload.conf). Written by
# bootstrap.sh. rsync passes the client's request in RSYNC_ARG1, RSYNC_ARG2, ...: the
# options, ".", then the destination. Exit 0 lets the transfer start; otherwise what is
# printed reaches the client and nothing is transferred.
#
# Each token must have a form the workstation client sends, with a value only after "=":
# rsync's option parser takes the token after an option that wants a value as its value,
# so "--log-format --ignore-existing" would ask for no --ignore-existing at all.
set -u
refuse() { printf 'opvideo upload refused: %s\n' "$*"; exit 1; }
ignore_existing=0 omit_dir_times=0 i=1
while :; do
  eval "set -- \${RSYNC_ARG$i+x} \"\${RSYNC_ARG$i-}\""
  [ "$1" = x ] || refuse "the request has no paths"
  arg=$2
  i=$((i + 1))
  case $arg in
    .) break ;;
    --server|--dry-run|--checksum|--times|--relative) ;;
    --ignore-existing) ignore_existing=1 ;;
    --omit-dir-times) omit_dir_times=1 ;;
    --log-format=*|--timeout=*|--bwlimit=*|--modify-window=*|--info=*) ;;
    -[!-]*)
      # Single-letter flags; -e takes the rest of the token (rsync's protocol flags).
      rest=${arg#-}
      while [ -n "$rest" ]; do
        letter=${rest%"${rest#?}"}
        rest=${rest#?}
        case $letter in
          O) omit_dir_times=1 ;;
          n|t|R|c) ;;
          e) [ -n "$rest" ] || refuse "-e without its value"; rest= ;;
          *) refuse "option -$letter is not accepted" ;;
        esac
      done ;;
    *) refuse "option $arg is not accepted" ;;
  esac
done
[ "$ignore_existing" = 1 ] || refuse "--ignore-existing is required: a stored recording is never replaced"
[ "$omit_dir_times" = 1 ] || refuse "--omit-dir-times is required: no directory's time is changed"
eval "set -- \${RSYNC_ARG$i+x} \"\${RSYNC_ARG$i-}\" \${RSYNC_ARG$((i + 1))+x}"
[ "$1" = x ] && [ $# -eq 2 ] || refuse "give exactly one destination, <name>/"
dest=$2
case $dest in
  */) dest=${dest%/} ;;
  *) refuse "the destination must be a directory, <name>/" ;;
esac
case $dest in
  .*) refuse "the destination must not be hidden: .previews and other hidden names under PATH_DST are the storage server's own" ;;
  ""|[!A-Za-z0-9]*|*[!A-Za-z0-9._-]*) refuse "the destination must be one directory name, <name>/" ;;
esac
[ ${#dest} -le 63 ] || refuse "the destination name is longer than 63 characters"
exit 0
EOF
}
# put_file PATH MODE TEXT-FUNCTION: the file as the function prints it, root's, MODE.
put_file() {
  local path=$1 mode=$2 text=$3
  if [ ! -f "$path" ] || ! cmp -s <("$text") "$path"; then
    local what="wrote $path"
    [ ! -e "$path" ] || what="rewrote $path as bootstrap.sh makes it"
    write_file() {
      local tmp
      tmp=$(mktemp "$(dirname "$path")/.opvideo.XXXXXX")
      "$text" >"$tmp"
      chown root:root "$tmp"
      chmod "$mode" "$tmp"
      mv -f "$tmp" "$path"  # atomic: a connection never reads half a file
    }
    change "$what" write_file
  fi
  if [ -f "$path" ]; then
    [ "$(owner_of "$path")" = root:root ] || change "owner of $path set to root:root" chown root:root "$path"
    [ "$(mode_of "$path")" = "$mode" ] || change "mode of $path set to $mode" chmod "$mode" "$path"
  fi
}
if [ ! -d "$module_dir" ]; then
  [ ! -e "$module_dir" ] || die "$module_dir exists and is not a directory"
  change "created $module_dir" mkdir -p "$module_dir"
fi
if [ -d "$module_dir" ]; then
  [ "$(owner_of "$module_dir")" = root:root ] || change "owner of $module_dir set to root:root" chown root:root "$module_dir"
  [ "$(mode_of "$module_dir")" = 755 ] || change "mode of $module_dir set to 755" chmod 755 "$module_dir"
  put_file "$module_conf" 644 module_conf_text
  put_file "$module_check" 755 module_check_text
else
  change "wrote $module_conf and $module_check" true
fi
if [ "$module_only" = 1 ]; then
  if [ "$changes" -eq 0 ]; then
    note "nothing to change: $module_conf and $module_check are ready"
  fi
  exit 0
fi

# --- 1. the user -----------------------------------------------------------------------------
if [ -n "$group" ] && ! getent group "$group" >/dev/null; then
  change "created group $group" groupadd "$group"
fi
if ! getent passwd "$user" >/dev/null; then
  # '*' is "no password" without the '!' of a locked account: sshd without PAM refuses
  # locked accounts even for keys. The shell runs the line's forced command, the only one
  # the key may run.
  add=(useradd --create-home --shell /bin/sh --password '*')
  if [ -n "$group" ]; then add+=(--gid "$group"); else add+=(--user-group); fi
  change "created user $user (key login only)" "${add[@]}" "$user"
else
  shell=$(getent passwd "$user" | cut -d: -f7)
  case "$shell" in
    */nologin|*/false|"")
      change "gave $user the shell /bin/sh (the key's forced command runs through it)" usermod --shell /bin/sh "$user" ;;
  esac
  if getent shadow "$user" | cut -d: -f2 | grep -q '^!'; then
    warn "$user's password is locked ('!'): fine with sshd's default UsePAM yes; with UsePAM no, sshd refuses it (usermod -p '*' $user)"
  fi
fi

if [ "$dry_run" = 1 ] && ! getent passwd "$user" >/dev/null; then
  home=/home/$user
  [ -n "$group" ] || group=$user
else
  home=$(getent passwd "$user" | cut -d: -f6)
  [ -n "$group" ] || group=$(id -gn "$user")
fi

# --- 4./5. where sshd reads the user's keys --------------------------------------------------
if [ -z "$keys_file" ]; then
  keys_file=$({ sshd -T -C "user=$user,host=localhost,addr=127.0.0.1" 2>/dev/null || true; } |
    awk 'tolower($1) == "authorizedkeysfile" { print $2; exit }')
  if [ -z "$keys_file" ] && [ -r /etc/ssh/sshd_config ]; then
    keys_file=$(awk 'tolower($1) == "authorizedkeysfile" { print $2; exit }' /etc/ssh/sshd_config)
  fi
  keys_file=${keys_file:-.ssh/authorized_keys}
fi
uid_of_user=$(id -u "$user" 2>/dev/null || echo "")
keys_file=${keys_file//%%/$'\1'}
keys_file=${keys_file//%h/$home}
keys_file=${keys_file//%u/$user}
keys_file=${keys_file//%U/$uid_of_user}
keys_file=${keys_file//$'\1'/%}
case "$keys_file" in /*) ;; *) keys_file=$home/$keys_file ;; esac
keys_dir=$(dirname "$keys_file")

# Inside the home the user owns its keys (sshd's StrictModes wants them private); a central
# directory such as /etc/ssh/authorized_keys/%u stays root's.
if [[ "$keys_file" == "$home"/* ]]; then
  keys_owner=$user:$group keys_mode=600 dir_owner=$user:$group dir_mode=700
else
  keys_owner=root:root keys_mode=644 dir_owner="" dir_mode=""
fi

# --- 2./6./7. the key directory --------------------------------------------------------------
if [ ! -d "$keys_dir" ]; then
  change "created $keys_dir" mkdir -p "$keys_dir"
fi
if [ -n "$dir_owner" ] && [ -d "$keys_dir" ]; then
  [ "$(owner_of "$keys_dir")" = "$dir_owner" ] ||
    change "owner of $keys_dir set to $dir_owner" chown "$dir_owner" "$keys_dir"
  [ "$(mode_of "$keys_dir")" = "$dir_mode" ] ||
    change "mode of $keys_dir set to $dir_mode" chmod "$dir_mode" "$keys_dir"
elif [ -n "$dir_owner" ] && [ "$dry_run" = 1 ]; then
  change "owner and mode of $keys_dir set to $dir_owner $dir_mode" true
fi

# --- 4./5. the line --------------------------------------------------------------------------
current=""
[ -f "$keys_file" ] && current=$(cat -- "$keys_file")
# Keep every other line; drop an older line of this zone or of this key (same zone, new key
# or new PATH_DST); then the line itself, once.
kept=$(printf '%s\n' "$current" | awk -v line="$line" -v blob=" $key_blob " -v comment=" opvideo-$zone" '
  $0 == "" { next }
  $0 == line { next }
  index($0 " ", blob) > 0 { next }
  substr($0, length($0) - length(comment) + 1) == comment { next }
  { print }')
wanted=$(if [ -n "$kept" ]; then printf '%s\n' "$kept"; fi; printf '%s\n' "$line")
if [ "$(printf '%s\n' "$current" | sed '/^$/d')" != "$wanted" ]; then
  write_keys() {
    local tmp
    tmp=$(mktemp "$keys_dir/.authorized_keys.XXXXXX")
    printf '%s\n' "$wanted" >"$tmp"
    chown "$keys_owner" "$tmp"
    chmod "$keys_mode" "$tmp"
    mv -f "$tmp" "$keys_file"  # atomic: sshd never reads half a file
  }
  # Lines dropped other than copies of the line itself: an older line of this zone or key.
  replaced=$(printf '%s\n' "$current" | awk -v line="$line" 'NF && $0 != line' |
    grep -cvxF -- "$kept" || true)
  if [ -z "$kept" ]; then
    replaced=$(printf '%s\n' "$current" | awk -v line="$line" 'NF && $0 != line' | wc -l)
  fi
  if [ "$replaced" -gt 0 ]; then
    what="replaced $replaced older key line(s) of zone $zone in $keys_file"
  else
    what="added the key line of zone $zone to $keys_file"
  fi
  change "$what" write_keys
fi
if [ -f "$keys_file" ]; then
  [ "$(owner_of "$keys_file")" = "$keys_owner" ] ||
    change "owner of $keys_file set to $keys_owner" chown "$keys_owner" "$keys_file"
  [ "$(mode_of "$keys_file")" = "$keys_mode" ] ||
    change "mode of $keys_file set to $keys_mode" chmod "$keys_mode" "$keys_file"
fi

# --- 8./9. PATH_DST --------------------------------------------------------------------------
if [ ! -d "$path_dst" ]; then
  [ ! -e "$path_dst" ] || die "$path_dst exists and is not a directory"
  change "created $path_dst" mkdir -p "$path_dst"
fi
if [ ! -d "$path_dst" ] && [ "$dry_run" = 1 ]; then
  change "owner and mode of $path_dst set to $user:$group 750" true
fi
if [ -d "$path_dst" ]; then
  [ "$(owner_of "$path_dst")" = "$user:$group" ] ||
    change "owner of $path_dst set to $user:$group" chown "$user:$group" "$path_dst"
  # Written by the user only; read by its group (the retention worker and nginx), nobody else.
  [ "$(mode_of "$path_dst")" = 750 ] ||
    change "mode of $path_dst set to 750" chmod 750 "$path_dst"
  foreign=$(find "$path_dst" -mindepth 1 \( ! -user "$user" -o ! -group "$group" \) -printf x | wc -c)
  if [ "$foreign" -gt 0 ]; then
    change "gave $foreign entries under $path_dst to $user:$group" \
      find "$path_dst" -mindepth 1 \( ! -user "$user" -o ! -group "$group" \) -exec chown -h "$user:$group" {} +
  fi
  # Modes the upload module never gives (an older rrsync line let a workstation choose them):
  # writable by group or others, setuid, setgid, sticky, executable files, or not readable
  # by the group. Those get the module's own; 755 and 644 of older uploads are left alone.
  bad_dirs=(find "$path_dst" -mindepth 1 -type d \( -perm /7022 -o ! -perm -0750 \))
  bad_files=(find "$path_dst" -mindepth 1 -type f \( -perm /7133 -o ! -perm -0640 \))
  count=$("${bad_dirs[@]}" -printf x | wc -c)
  if [ "$count" -gt 0 ]; then
    change "gave $count directories under $path_dst the mode 750" "${bad_dirs[@]}" -exec chmod 0750 {} +
  fi
  count=$("${bad_files[@]}" -printf x | wc -c)
  if [ "$count" -gt 0 ]; then
    change "gave $count files under $path_dst the mode 640" "${bad_files[@]}" -exec chmod 0640 {} +
  fi
  # Never uploaded by the module, never a recording: said, not deleted (a person decides).
  odd=$(find "$path_dst" -mindepth 1 ! -type f ! -type d -printf '%p\n' | head -n 5)
  if [ -n "$odd" ]; then
    warn "$path_dst holds symbolic links, devices or FIFOs, which no upload makes (first ones: $(printf '%s' "$odd" | tr '\n' ' ')): find $path_dst ! -type f ! -type d -ls"
  fi
  if [ "$dry_run" = 0 ] && ! runuser -u "$user" -- test -w "$path_dst" -a -x "$path_dst"; then
    die "$user cannot write into $path_dst: a parent directory does not let it through (ls -ld each parent)"
  fi
fi

# --- nginx outside Docker --------------------------------------------------------------------
# Its workers run as --nginx-user with the group as their group (render_nginx_conf --group):
# they must get through every parent of PATH_DST. In Docker nginx runs as the user itself.
if [ -z "$nginx_user" ] && getent passwd www-data >/dev/null; then
  nginx_user=www-data
fi
if [ -n "$nginx_user" ] && [ "$dry_run" = 0 ]; then
  if ! setpriv --reuid="$nginx_user" --regid="$group" --init-groups -- test -r "$path_dst" -a -x "$path_dst"; then
    warn "nginx's workers ($nginx_user, group $group) cannot read $path_dst: a parent directory does not let them through (ls -ld each parent)"
  fi
fi

# --- sshd settings that would keep the key out -----------------------------------------------
sshd_effective=$(sshd -T -C "user=$user,host=localhost,addr=127.0.0.1" 2>/dev/null || true)
if [ -n "$sshd_effective" ]; then
  if grep -qi '^pubkeyauthentication no' <<<"$sshd_effective"; then
    warn "sshd has PubkeyAuthentication no: the workstations cannot log in with the zone's key"
  fi
  allow=$(awk 'tolower($1) == "allowusers" { $1 = ""; print }' <<<"$sshd_effective")
  if [ -n "$allow" ] && ! grep -qw -- "$user" <<<"$allow"; then
    warn "sshd's AllowUsers does not list $user: add it, or the workstations are refused"
  fi
fi

# --- what happened ---------------------------------------------------------------------------
if [ "$changes" -eq 0 ]; then
  note "nothing to change: $user, $keys_file and $path_dst are ready for zone $zone"
elif [ "$dry_run" = 1 ]; then
  note "$changes change(s) would be made (dry run: nothing changed)"
else
  note "$changes change(s) made for zone $zone"
fi
if id "$user" >/dev/null 2>&1; then
  ids="$(id -u "$user"):$(getent group "$group" | cut -d: -f3)"
  note "the zone's services run as $ids: manage.py render_stack_services --zone $zone --user $ids"
  note "a nginx without Docker reads the recordings with the group $group: manage.py render_nginx_conf --zone $zone --user ${nginx_user:-www-data} --group $group"
fi

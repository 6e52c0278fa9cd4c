#!/usr/bin/env bash
# Prepare a zone's storage server to receive recordings: the old README's manual list, done
# idempotently. Run it as root on the storage server; run it again at any time: it changes
# only what is not yet as it should be, and says what it changed.
#
#   bootstrap.sh --user USER --line-file FILE        (or --line-file - to read stdin)
#   bootstrap.sh --user USER --line 'restrict,command="/usr/bin/rrsync ..." ssh-ed25519 AAAA... opvideo-kursk'
#
# The line is the zone's authorized_keys line from the admin page (or from
# `manage.py zone_authorized_key --zone <zone>`). PATH_DST is read from it, so the directory
# made here is exactly the one the key is confined to.
#
# What it does (the old manual steps, numbered as there):
#   0. rsync (with rrsync) installed                       apt-get install rsync
#   1. the user (key login only: no password, not locked)  useradd
#   2. ~/.ssh, owned by the user, mode 700                 mkdir, chown, chmod
#   3. (the key pair is made in the admin, not here: the server never sees the private key)
#   4./5. the key line in the file sshd reads (AuthorizedKeysFile, from `sshd -T`),
#      replacing an older line of the same zone or key, owned by the user, mode 600
#   6./7. owners and modes of the above
#   8./9. PATH_DST, owned by the user, mode 750; anything inside owned by someone else is
#      given to the user (the retention worker, running as the user, deletes what expired)
#
# Options:
#   --group GROUP                 group of the user and PATH_DST (default: the user's own)
#   --path-dst DIR                refuse to run unless the line's PATH_DST is DIR
#   --authorized-keys-file PATH   where sshd reads keys (default: asked from sshd -T)
#   --dry-run                     say what would change, change nothing
set -euo pipefail
umask 022

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "bootstrap: $*" >&2; exit 2; }
note() { echo "bootstrap: $*"; }
warn() { echo "bootstrap: warning: $*" >&2; }

user="" group="" line="" line_file="" want_dst="" keys_file="" dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --user) user=${2:?--user needs a value}; shift 2 ;;
    --group) group=${2:?--group needs a value}; shift 2 ;;
    --line) line=${2:?--line needs a value}; shift 2 ;;
    --line-file) line_file=${2:?--line-file needs a value}; shift 2 ;;
    --path-dst) want_dst=${2:?--path-dst needs a value}; shift 2 ;;
    --authorized-keys-file) keys_file=${2:?--authorized-keys-file needs a value}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

# --- check everything before changing anything ---------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run me as root (I create a user and set owners)"
[ -n "$user" ] || die "--user is required: the zone's ssh user (CONFIG.USER)"
[[ "$user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--user $user is not a POSIX user name"
[ "$user" != root ] || die "the zone's user must not be root"
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

# Only a line as OPVideo makes it: the key confined by rrsync to uploading into PATH_DST.
# Anything else (a bare key, another forced command) would give the workstations' shared key
# more than it may have, so it is refused rather than installed.
safe_path='/[A-Za-z0-9._@+/-]*'
line_re="^restrict,command=\"((/[A-Za-z0-9._@+-]+)*/rrsync) -wo -no-del -no-lock -no-overwrite (${safe_path})\" (ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) ([A-Za-z0-9+/]+={0,2}) opvideo-([a-z0-9]+([-_][a-z0-9]+)*)$"
[[ "$line" =~ $line_re ]] || die "this is not a zone's authorized_keys line from OPVideo (restrict,command=\"/usr/bin/rrsync -wo ...\" <key> opvideo-<zone>): refusing to install it"
rrsync=${BASH_REMATCH[1]}
path_dst=${BASH_REMATCH[3]}
key_blob=${BASH_REMATCH[5]}
zone=${BASH_REMATCH[6]}
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

# --- 0. rsync and rrsync ---------------------------------------------------------------------
rrsync_ok() {
  [ -x "$rrsync" ] || return 1
  # rrsync is a Python script on Debian: its interpreter must be there too.
  local shebang interp
  shebang=$(head -c 200 "$rrsync" 2>/dev/null | head -n1 | tr -d '\0' || true)
  case "$shebang" in
    '#!'*) interp=${shebang#\#!}; interp=${interp%% *}; [ -x "$interp" ] || return 1 ;;
  esac
  command -v rsync >/dev/null
}
if ! rrsync_ok; then
  if [ "$rrsync" = /usr/bin/rrsync ] && command -v apt-get >/dev/null; then
    install_rsync() {
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsync python3 >/dev/null
    }
    change "installed rsync (with rrsync)" install_rsync
    [ "$dry_run" = 1 ] || rrsync_ok || die "rsync is installed but $rrsync still does not run"
  else
    die "$rrsync (named in the line) is missing: install rsync, or have the admin give the zone's line for this host's rrsync path (zone_authorized_key --rrsync-path)"
  fi
fi
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || warn "no sshd here: install openssh-server, the workstations connect over ssh"

# --- 1. the user -----------------------------------------------------------------------------
if [ -n "$group" ] && ! getent group "$group" >/dev/null; then
  change "created group $group" groupadd "$group"
fi
if ! getent passwd "$user" >/dev/null; then
  # '*' is "no password" without the '!' of a locked account: sshd without PAM refuses
  # locked accounts even for keys. The shell runs rrsync, the only command the key may run.
  add=(useradd --create-home --shell /bin/sh --password '*')
  if [ -n "$group" ]; then add+=(--gid "$group"); else add+=(--user-group); fi
  change "created user $user (key login only)" "${add[@]}" "$user"
else
  shell=$(getent passwd "$user" | cut -d: -f7)
  case "$shell" in
    */nologin|*/false|"")
      change "gave $user the shell /bin/sh (the forced rrsync command runs through it)" usermod --shell /bin/sh "$user" ;;
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

owner_of() { stat -c '%U:%G' "$1"; }
mode_of() { stat -c '%a' "$1"; }

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
  # Recordings are for the zone's services (running as this user) only.
  [ "$(mode_of "$path_dst")" = 750 ] ||
    change "mode of $path_dst set to 750" chmod 750 "$path_dst"
  foreign=$(find "$path_dst" -mindepth 1 \( ! -user "$user" -o ! -group "$group" \) -printf x | wc -c)
  if [ "$foreign" -gt 0 ]; then
    change "gave $foreign entries under $path_dst to $user:$group" \
      find "$path_dst" -mindepth 1 \( ! -user "$user" -o ! -group "$group" \) -exec chown -h "$user:$group" {} +
  fi
  if [ "$dry_run" = 0 ] && ! runuser -u "$user" -- test -w "$path_dst" -a -x "$path_dst"; then
    die "$user cannot write into $path_dst: a parent directory does not let it through (ls -ld each parent)"
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
fi

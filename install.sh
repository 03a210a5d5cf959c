#!/bin/sh
# Ironpost installer: curl -fsSL <release location>/install.sh | sh
#
# Downloads the release archive for this machine, checks it against SHA256SUMS before anything
# is installed, then installs the executable, the default config (only when none exists) and
# the systemd unit (started when systemd runs). Run it again to upgrade; it never overwrites a
# config.
#
#   sh install.sh [--dry-run] [--uninstall [--purge]] [--help]
#   curl -fsSL .../install.sh | sh -s -- --uninstall
#
# Environment:
#   IRONPOST_VERSION      release to install: "latest" (default) or a version, e.g. 0.1.0
#   IRONPOST_BASE_URL     where releases live (default below). The layout under it is
#                           <base>/v<version>/SHA256SUMS
#                           <base>/v<version>/ironpost-<version>-<target>.tar.gz
#                           <base>/latest/...   the same files for the newest release
#                         with <target> x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu;
#                         `deno task release` writes these files into dist/.
#   IRONPOST_PREFIX       directory of the executable (default /usr/local/bin; without root
#                         ~/.local/bin)
#   IRONPOST_ETC          config directory (default /etc/ironpost; without root
#                         ~/.config/ironpost)
#   IRONPOST_STATE        data directory, removed only by --uninstall --purge
#                         (default /var/lib/ironpost; without root ~/.local/state/ironpost)
#   IRONPOST_SYSTEMD_DIR  directory of the unit (default /etc/systemd/system)
#   IRONPOST_SYSTEMD_RUN  systemd's runtime directory; systemctl is used only when it exists,
#                         i.e. when systemd is PID 1 (default /run/systemd/system)
#
# Every failure exits non-zero with one line starting "install.sh: error:". The whole script
# is the function main, called on the last line, so a truncated download runs nothing.

say() {
  printf 'install.sh: %s\n' "$*"
}

warn() {
  printf 'install.sh: warning: %s\n' "$*" >&2
}

die() {
  printf 'install.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
usage: install.sh [--dry-run] [--uninstall [--purge]] [--help]

Installs the Ironpost agent: the executable, /etc/ironpost/ironpost.toml (only when there is
none) and the systemd unit. Run it again to upgrade.

  --dry-run     print every step, change nothing
  --uninstall   remove the executable and the unit; keep the config and the data
  --purge       with --uninstall: also remove the config and the data directories
  --help        this text

Environment: IRONPOST_VERSION (latest), IRONPOST_BASE_URL, IRONPOST_PREFIX (/usr/local/bin),
IRONPOST_ETC (/etc/ironpost), IRONPOST_STATE (/var/lib/ironpost),
IRONPOST_SYSTEMD_DIR (/etc/systemd/system).
EOF
}

# do_step DESCRIPTION COMMAND [ARG...]: run a step that changes the system (or, with --dry-run,
# only say what it would do). A failing step is fatal.
do_step() {
  step_what=$1
  shift
  if [ "$DRY_RUN" = 1 ]; then
    say "would $step_what"
    return 0
  fi
  say "$step_what"
  "$@" || die "could not $step_what"
}

# The command that downloads URL to FILE: curl, else wget.
download() {
  dl_url=$1
  dl_file=$2
  case "$DOWNLOADER" in
    curl)
      if ! dl_err=$(curl --fail --silent --show-error --location --proto "$CURL_PROTO" \
        --retry 3 --output "$dl_file" "$dl_url" 2>&1); then
        die "download failed: $dl_url ($(printf '%s\n' "$dl_err" | tail -n 1))"
      fi
      ;;
    wget)
      # shellcheck disable=SC2086 # WGET_PROTO is one option or nothing
      dl_err=$(wget --quiet $WGET_PROTO --tries=3 --output-document="$dl_file" "$dl_url" 2>&1) ||
        die "download failed: $dl_url (wget exit status $?${dl_err:+: $dl_err})"
      ;;
  esac
}

sha256_of() {
  if [ "$SHA_TOOL" = sha256sum ]; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

detect_target() {
  os=$(uname -s 2>/dev/null) || die "uname failed"
  case "$os" in
    Linux) ;;
    *) die "unsupported operating system: $os (Ironpost runs on Linux only)" ;;
  esac
  arch=$(uname -m 2>/dev/null) || die "uname failed"
  case "$arch" in
    x86_64 | amd64) TARGET=x86_64-unknown-linux-gnu ;;
    aarch64 | arm64) TARGET=aarch64-unknown-linux-gnu ;;
    *) die "unsupported architecture: $arch (Ironpost ships x86_64 and aarch64 binaries)" ;;
  esac
}

# Paths that go into sed replacements and the unit: absolute, without odd characters.
check_path() {
  case "$2" in
    /*) ;;
    *) die "$1 must be an absolute path, got '$2'" ;;
  esac
  case "$2" in
    *[!A-Za-z0-9/._+-]*) die "$1 may hold only letters, digits and / . _ + -, got '$2'" ;;
  esac
}

systemd_running() {
  [ -d "$SYSTEMD_RUN" ]
}

# Remove a file or directory if present.
remove_path() {
  if [ -e "$2" ] || [ -L "$2" ]; then
    do_step "remove $1 $2" rm -rf -- "$2"
    CHANGED=1
  else
    say "$1 $2 is not there"
  fi
}

uninstall() {
  unit_path="$SYSTEMD_DIR/ironpost.service"
  if [ "$IS_ROOT" = 1 ] && [ -e "$unit_path" ] && systemd_running; then
    if [ "$DRY_RUN" = 1 ]; then
      say "would run: systemctl disable --now ironpost.service"
    else
      say "systemctl disable --now ironpost.service"
      systemctl disable --now ironpost.service || warn "systemctl disable --now ironpost.service failed"
    fi
  fi
  CHANGED=0
  if [ "$IS_ROOT" = 1 ]; then
    remove_path "unit" "$unit_path"
  fi
  if [ "$CHANGED" = 1 ] && [ "$IS_ROOT" = 1 ] && systemd_running; then
    do_step "run: systemctl daemon-reload" systemctl daemon-reload
  fi
  remove_path "executable" "$PREFIX/ironpost"
  if [ "$PURGE" = 1 ]; then
    remove_path "config directory" "$ETC"
    remove_path "data directory" "$STATE"
  else
    [ -e "$ETC" ] && say "kept the config in $ETC (--uninstall --purge removes it)"
    [ -e "$STATE" ] && say "kept the data in $STATE (--uninstall --purge removes it)"
  fi
  if [ "$DRY_RUN" = 1 ]; then
    say "dry run: nothing was changed"
  else
    say "Ironpost is uninstalled"
  fi
}

install_release() {
  detect_target

  if command -v curl >/dev/null 2>&1; then
    DOWNLOADER=curl
  elif command -v wget >/dev/null 2>&1; then
    DOWNLOADER=wget
  else
    die "neither curl nor wget is installed; install one of them and run this again"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    SHA_TOOL=sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    SHA_TOOL=shasum
  else
    die "neither sha256sum nor shasum is installed; cannot verify the download"
  fi
  command -v tar >/dev/null 2>&1 || die "tar is not installed"
  command -v gzip >/dev/null 2>&1 || die "gzip is not installed"

  base=${IRONPOST_BASE_URL:-$DEFAULT_BASE_URL}
  base=${base%/}
  case "$base" in
    https://*)
      CURL_PROTO='=https'
      WGET_PROTO='--https-only'
      ;;
    http://*)
      CURL_PROTO='=http,https'
      WGET_PROTO=''
      warn "downloading over plain http from $base"
      ;;
    *) die "IRONPOST_BASE_URL must start with https:// or http://, got '$base'" ;;
  esac
  version=${IRONPOST_VERSION:-latest}
  case "$version" in
    latest) release_url="$base/latest" ;;
    v[0-9]* | [0-9]*)
      case "$version" in
        *[!A-Za-z0-9.+-]*) die "bad IRONPOST_VERSION '$version'" ;;
      esac
      release_url="$base/v${version#v}"
      ;;
    *) die "bad IRONPOST_VERSION '$version'; expected latest or a version such as 0.1.0" ;;
  esac

  TMP_DIR=$(mktemp -d 2>/dev/null || mktemp -d -t ironpost) || die "mktemp failed"
  trap 'rm -rf "$TMP_DIR"' EXIT
  trap 'rm -rf "$TMP_DIR"; exit 130' INT
  trap 'rm -rf "$TMP_DIR"; exit 143' TERM

  say "target $TARGET; downloading $release_url/SHA256SUMS with $DOWNLOADER"
  download "$release_url/SHA256SUMS" "$TMP_DIR/SHA256SUMS"
  # The archive for this target, named in SHA256SUMS (which also gives the version of "latest").
  archive=$(sed -n "s/^[0-9a-fA-F]\{64\}  *\*\{0,1\}\(ironpost-[A-Za-z0-9.+-]*-$TARGET\.tar\.gz\)$/\1/p" \
    "$TMP_DIR/SHA256SUMS" | head -n 1)
  [ -n "$archive" ] || die "no $TARGET archive in $release_url/SHA256SUMS"
  expected=$(sed -n "s/^\([0-9a-fA-F]\{64\}\)  *\*\{0,1\}$archive$/\1/p" "$TMP_DIR/SHA256SUMS" |
    head -n 1 | tr 'A-F' 'a-f')
  release_version=${archive#ironpost-}
  release_version=${release_version%-"$TARGET".tar.gz}

  say "downloading $release_url/$archive"
  download "$release_url/$archive" "$TMP_DIR/$archive"
  actual=$(sha256_of "$TMP_DIR/$archive")
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $archive: expected $expected, got $actual; nothing was installed"
  say "checksum verified (sha256 $actual)"

  mkdir "$TMP_DIR/x" || die "mkdir in $TMP_DIR failed"
  if ! tar_err=$(tar -xzf "$TMP_DIR/$archive" -C "$TMP_DIR/x" 2>&1); then
    die "cannot unpack $archive ($(printf '%s\n' "$tar_err" | tail -n 1))"
  fi
  [ -f "$TMP_DIR/x/ironpost" ] || die "$archive holds no ironpost executable"
  chmod 0755 "$TMP_DIR/x/ironpost" || die "chmod failed"

  # The executable: written beside the old one, then renamed over it (safe while it runs).
  bin="$PREFIX/ironpost"
  if [ ! -d "$PREFIX" ]; then
    do_step "create $PREFIX" mkdir -p "$PREFIX"
  fi
  if [ -f "$bin" ] && cmp -s "$TMP_DIR/x/ironpost" "$bin"; then
    say "executable $bin is already ironpost $release_version"
    BIN_CHANGED=0
  else
    do_step "install ironpost $release_version to $bin" install_file "$TMP_DIR/x/ironpost" "$bin" 0755
    BIN_CHANGED=1
  fi

  # The config: only when there is none.
  if [ -e "$ETC/ironpost.toml" ]; then
    say "kept the existing config $ETC/ironpost.toml"
  else
    [ -f "$TMP_DIR/x/ironpost.toml" ] || die "$archive holds no ironpost.toml"
    if [ ! -d "$ETC" ]; then
      do_step "create $ETC (mode 0750)" mkdir -p -m 0750 "$ETC"
    fi
    do_step "write the default config $ETC/ironpost.toml" \
      install_file "$TMP_DIR/x/ironpost.toml" "$ETC/ironpost.toml" 0640
  fi

  # The unit: only as root (it is a system service), with this install's paths.
  unit_path="$SYSTEMD_DIR/ironpost.service"
  if [ ! -f "$TMP_DIR/x/ironpost.service" ]; then
    warn "$archive holds no systemd unit; start the agent with: $bin run --config $ETC/ironpost.toml"
  elif [ "$IS_ROOT" != 1 ]; then
    say "not root: no systemd unit installed; run the agent with: $bin run --config $ETC/ironpost.toml"
  else
    # The unit names the default paths; point them at this install's.
    sed -e "s#/usr/local/bin/ironpost#$bin#g" -e "s#/etc/ironpost#$ETC#g" \
      -e "s#/var/lib/ironpost#$STATE#g" \
      "$TMP_DIR/x/ironpost.service" >"$TMP_DIR/ironpost.service" || die "cannot prepare the unit"
    if [ -f "$unit_path" ] && cmp -s "$TMP_DIR/ironpost.service" "$unit_path"; then
      say "unit $unit_path is up to date"
      UNIT_CHANGED=0
    else
      if [ ! -d "$SYSTEMD_DIR" ]; then
        do_step "create $SYSTEMD_DIR" mkdir -p "$SYSTEMD_DIR"
      fi
      do_step "install the unit $unit_path" install_file "$TMP_DIR/ironpost.service" "$unit_path" 0644
      UNIT_CHANGED=1
    fi
    if systemd_running; then
      if [ "$UNIT_CHANGED" = 1 ]; then
        do_step "run: systemctl daemon-reload" systemctl daemon-reload
      fi
      do_step "run: systemctl enable --now ironpost.service" systemctl enable --now ironpost.service
      if [ "$BIN_CHANGED" = 1 ] || [ "$UNIT_CHANGED" = 1 ]; then
        do_step "run: systemctl try-restart ironpost.service" systemctl try-restart ironpost.service
      fi
    else
      say "systemd is not running here; to start the agent at boot on a systemd host run:"
      say "  systemctl daemon-reload && systemctl enable --now ironpost.service"
      say "or run it in the foreground: $bin run --config $ETC/ironpost.toml"
    fi
  fi

  if [ "$DRY_RUN" = 1 ]; then
    say "dry run: nothing was changed"
    return 0
  fi
  if ran=$("$bin" version 2>/dev/null); then
    say "installed: $(printf '%s\n' "$ran" | head -n 1)"
  else
    warn "$bin did not run on this machine (\"$bin version\" failed)"
  fi
  case ":${PATH:-}:" in
    *":$PREFIX:"*) ;;
    *) say "note: $PREFIX is not in your PATH; add it, e.g. export PATH=\"$PREFIX:\$PATH\"" ;;
  esac
  say "done. Check the config with: $bin --validate --config $ETC/ironpost.toml"
}

# install_file SRC DEST MODE: copy to a temporary name beside DEST, then rename it over DEST.
install_file() {
  if cp -- "$1" "$2.ironpost-new" && chmod "$3" "$2.ironpost-new" &&
    mv -f -- "$2.ironpost-new" "$2"; then
    return 0
  fi
  rm -f -- "$2.ironpost-new"
  return 1
}

main() {
  DEFAULT_BASE_URL=https://github.com/ironpost/ironpost/releases/download
  DRY_RUN=0
  UNINSTALL=0
  PURGE=0
  for arg in "$@"; do
    case "$arg" in
      --dry-run) DRY_RUN=1 ;;
      --uninstall) UNINSTALL=1 ;;
      --purge) PURGE=1 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown argument '$arg' (see --help)" ;;
    esac
  done
  [ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || die "--purge goes with --uninstall"

  uid=$(id -u 2>/dev/null) || die "id -u failed"
  if [ "$uid" = 0 ]; then
    IS_ROOT=1
    PREFIX=${IRONPOST_PREFIX:-/usr/local/bin}
    ETC=${IRONPOST_ETC:-/etc/ironpost}
    STATE=${IRONPOST_STATE:-/var/lib/ironpost}
  else
    IS_ROOT=0
    [ -n "${HOME:-}" ] || die "not root and HOME is not set; set IRONPOST_PREFIX or run as root"
    PREFIX=${IRONPOST_PREFIX:-$HOME/.local/bin}
    ETC=${IRONPOST_ETC:-${XDG_CONFIG_HOME:-$HOME/.config}/ironpost}
    STATE=${IRONPOST_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/ironpost}
    if [ -z "${IRONPOST_PREFIX:-}" ]; then
      say "not running as root: installing for this user into $PREFIX (config in $ETC)"
    fi
  fi
  SYSTEMD_DIR=${IRONPOST_SYSTEMD_DIR:-/etc/systemd/system}
  SYSTEMD_RUN=${IRONPOST_SYSTEMD_RUN:-/run/systemd/system}
  check_path IRONPOST_PREFIX "$PREFIX"
  check_path IRONPOST_ETC "$ETC"
  check_path IRONPOST_STATE "$STATE"
  check_path IRONPOST_SYSTEMD_DIR "$SYSTEMD_DIR"
  [ "$DRY_RUN" = 0 ] || say "dry run: printing every step, changing nothing"

  if [ "$UNINSTALL" = 1 ]; then
    uninstall
  else
    install_release
  fi
}

main "$@"

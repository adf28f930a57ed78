# Sourced by ./shears and .ci/run: sets JAVA_HOME to a JDK 25 or newer, or fails with a clear message.
java_major() {
  "$1/bin/java" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}
shears_find_jdk() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(java_major "$JAVA_HOME")" -ge 25 ] 2>/dev/null; then
    return 0
  fi
  for candidate in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*3[0-9]*; do
    if [ -x "$candidate/bin/java" ] && [ "$(java_major "$candidate")" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "shears: no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm/*25*); install one, e.g. Temurin 25, and set JAVA_HOME" >&2
  return 1
}

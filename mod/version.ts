/** Ironpost's version, reported by `ironpost version`, `/status` and `ironpost_build_info`. */
export const VERSION = "0.1.0";

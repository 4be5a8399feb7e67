# SPDX-License-Identifier: MPL-2.0
# Warning flags for every target (STYLE.md "Build and CI").
# -Wno-format-truncation: messages are cut to fixed buffers on purpose with
# snprintf (struct err, log lines); GCC reports that only at -O2, so Debug and
# Release builds would disagree about which code is warning-free.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes
                    -Wmissing-prototypes -Wformat=2 -Wvla)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-format-truncation)
endif()
if(ENABLE_WERROR)
  add_compile_options(-Werror)
endif()

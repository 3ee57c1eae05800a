# Generated layout, hand-maintained: sources and per-ISA flags come from native/sources.json via scripts/sources.cjs.
# One static library per ISA group so that only those files get the ISA's -m flags.
{
  "targets": [
    {
      "target_name": "st_core",
      "type": "static_library",
      "sources": [
        "<!@(node scripts/sources.cjs core)"
      ],
      "include_dirs": [
        "native"
      ],
      "cflags": [
        "-O3",
        "-fPIC",
        "-fvisibility=hidden",
        "-fno-math-errno",
        "<!@(node scripts/sources.cjs core --flags)"
      ],
      "cflags_cc": [
        "-std=c++17"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-std=gnu++17",
        "-std=gnu++20",
        "-std=c++20"
      ],
      "xcode_settings": {
        "OTHER_CFLAGS": [
          "-O3",
          "-fPIC",
          "-fvisibility=hidden",
          "-fno-math-errno",
          "<!@(node scripts/sources.cjs core --flags)"
        ],
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      }
    },
    {
      "target_name": "simdtensor",
      "sources": [
        "<!@(node scripts/sources.cjs binding)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags": [
        "-O3",
        "-fPIC",
        "-fvisibility=hidden",
        "-fno-math-errno"
      ],
      "cflags_cc": [
        "-std=c++17"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti",
        "-std=gnu++17",
        "-std=gnu++20",
        "-std=c++20"
      ],
      "dependencies": [
        "st_core"
      ],
      "conditions": [
        [
          "target_arch=='x64'",
          {
            "dependencies": [
              "st_avx2",
              "st_avxvnni",
              "st_avx512",
              "st_avx512vnni",
              "st_avx512bf16",
              "st_avx512fp16",
              "st_amx"
            ]
          }
        ],
        [
          "target_arch=='arm64'",
          {
            "dependencies": [
              "st_neon",
              "st_neondot",
              "st_neonfp16",
              "st_neoni8mm"
            ]
          }
        ]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CFLAGS": [
          "-O3",
          "-fPIC",
          "-fvisibility=hidden",
          "-fno-math-errno"
        ]
      }
    }
  ],
  "conditions": [
    [
      "target_arch=='x64'",
      {
        "targets": [
          {
            "target_name": "st_avx2",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx2)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs avx2 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs avx2 --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_avxvnni",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avxvnni)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs avxvnni --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs avxvnni --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_avx512",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs avx512 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs avx512 --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_avx512vnni",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512vnni)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs avx512vnni --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs avx512vnni --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_avx512bf16",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512bf16)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs avx512bf16 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs avx512bf16 --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_avx512fp16",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512fp16)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs avx512fp16 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs avx512fp16 --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_amx",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs amx)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs amx --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs amx --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          }
        ]
      }
    ],
    [
      "target_arch=='arm64'",
      {
        "targets": [
          {
            "target_name": "st_neon",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neon)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs neon --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs neon --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_neondot",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neondot)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs neondot --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs neondot --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_neonfp16",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neonfp16)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs neonfp16 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs neonfp16 --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          },
          {
            "target_name": "st_neoni8mm",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neoni8mm)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "-O3",
              "-fPIC",
              "-fvisibility=hidden",
              "-fno-math-errno",
              "<!@(node scripts/sources.cjs neoni8mm --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-std=gnu++17",
              "-std=gnu++20",
              "-std=c++20"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "-O3",
                "-fPIC",
                "-fvisibility=hidden",
                "-fno-math-errno",
                "<!@(node scripts/sources.cjs neoni8mm --flags)"
              ],
              "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
            }
          }
        ]
      }
    ]
  ]
}
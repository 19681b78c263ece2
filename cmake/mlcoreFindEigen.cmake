# Finds Eigen 3.3+ and defines Eigen3::Eigen.
#
# A plain C++ build uses the system's Eigen (Debian: libeigen3-dev) as before. `pip install .` on a
# machine with only Python and a C++ compiler has no system Eigen: there Eigen comes from PyPI's
# cmeel-eigen, a build requirement in pyproject.toml that pip installs into the isolated build
# environment. cmeel packages put a CMake prefix at <an entry of sys.path>/cmeel.prefix, a folder
# that CMake's own search never looks in, so the Python that runs the build is asked where it is.
find_package(Eigen3 3.3 QUIET NO_MODULE)
if(NOT Eigen3_FOUND)
  if(NOT Python_EXECUTABLE)
    find_package(Python 3.9 QUIET COMPONENTS Interpreter)
  endif()
  set(mlcore_cmeel_prefixes "")
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
              "import os, sys; print(*[p for p in (os.path.join(d, 'cmeel.prefix') for d in sys.path) if os.path.isdir(p)], sep='|')"
      OUTPUT_VARIABLE mlcore_cmeel_prefixes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    string(REPLACE "|" ";" mlcore_cmeel_prefixes "${mlcore_cmeel_prefixes}")
  endif()
  find_package(Eigen3 3.3 QUIET NO_MODULE PATHS ${mlcore_cmeel_prefixes})
  if(NOT Eigen3_FOUND)
    message(FATAL_ERROR
      "mlcore needs Eigen 3.3 or newer, found neither a system Eigen nor PyPI's cmeel-eigen. "
      "Install one (Debian/Ubuntu: apt-get install libeigen3-dev; or: python3 -m pip install "
      "cmeel-eigen), or point CMake at an Eigen3Config.cmake with -DEigen3_DIR=<folder>. "
      "`pip install .` brings cmeel-eigen itself.")
  endif()
endif()
message(STATUS "mlcore: Eigen ${Eigen3_VERSION} from ${Eigen3_DIR}")

// xopd-workbench: the desktop front end of X-OPD Workbench.
#include "core/common/Version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QLabel>
#include <QMainWindow>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("xopd-workbench");
    QApplication::setApplicationVersion(xopd::kVersion);
    QCommandLineParser parser;
    parser.setApplicationDescription("X-OPD Workbench");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    QMainWindow window;
    window.setWindowTitle("X-OPD Workbench");
    window.setCentralWidget(new QLabel("X-OPD Workbench"));
    window.show();
    return app.exec();
}
